using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Intake.Ledger;

namespace Orchestrator.Intake.Consumers;

// One consumer per status event; each is a line of the ledger.

public sealed class WorkItemPlannedConsumer(WorkItemLedger ledger) : IConsumer<WorkItemPlanned>
{
    public Task Consume(ConsumeContext<WorkItemPlanned> context) =>
        ledger.RecordAsync(context.Message.CorrelationId, context.MessageId!.Value, "planned",
            context.Message.Summary, WorkItemStatus.Planned, context.CancellationToken);
}

public sealed class WorkItemProgressedConsumer(WorkItemLedger ledger) : IConsumer<WorkItemProgressed>
{
    public Task Consume(ConsumeContext<WorkItemProgressed> context) =>
        ledger.RecordAsync(context.Message.CorrelationId, context.MessageId!.Value, "progress",
            $"{context.Message.Stage}: {context.Message.Detail}", WorkItemStatus.InProgress, context.CancellationToken);
}

public sealed class WorkItemFailedConsumer(WorkItemLedger ledger) : IConsumer<WorkItemFailed>
{
    public Task Consume(ConsumeContext<WorkItemFailed> context) =>
        ledger.RecordAsync(context.Message.CorrelationId, context.MessageId!.Value, "failed",
            $"{context.Message.Reason}: {context.Message.Detail}", WorkItemStatus.Failed, context.CancellationToken,
            item => item.AddUsage(context.Message.Usage));
}

public sealed class WorkItemCompletedConsumer(WorkItemLedger ledger) : IConsumer<WorkItemCompleted>
{
    public Task Consume(ConsumeContext<WorkItemCompleted> context) =>
        ledger.RecordAsync(context.Message.CorrelationId, context.MessageId!.Value, "completed",
            context.Message.Outcome, WorkItemStatus.Completed, context.CancellationToken,
            item => item.AddUsage(context.Message.Usage));
}

public sealed class PullRequestOpenedConsumer(WorkItemLedger ledger) : IConsumer<PullRequestOpened>
{
    public Task Consume(ConsumeContext<PullRequestOpened> context) =>
        ledger.RecordAsync(context.Message.CorrelationId, context.MessageId!.Value, "pull-request-opened",
            context.Message.Url, WorkItemStatus.PullRequestOpened, context.CancellationToken,
            item =>
            {
                item.PullRequestUrl = context.Message.Url;
                item.AddUsage(context.Message.Usage);
            });
}

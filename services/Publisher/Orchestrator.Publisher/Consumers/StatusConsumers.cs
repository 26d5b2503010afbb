using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Publisher.Publications;
using Orchestrator.Publisher.Status;

namespace Orchestrator.Publisher.Consumers;

// One consumer per status event; each fills in what it knows and the issue's status comment and labels follow.

public sealed class WorkItemAcceptedConsumer(StatusBoard board) : IConsumer<WorkItemAccepted>
{
    public Task Consume(ConsumeContext<WorkItemAccepted> context) =>
        board.UpdateAsync(context.Message.CorrelationId, p =>
        {
            p.Repository = context.Message.Repository;
            p.IssueNumber = context.Message.IssueNumber;
            p.BaseBranch = context.Message.BaseBranch;
        }, context.CancellationToken);
}

public sealed class WorkItemPlannedConsumer(StatusBoard board) : IConsumer<WorkItemPlanned>
{
    public Task Consume(ConsumeContext<WorkItemPlanned> context) =>
        board.UpdateAsync(context.Message.CorrelationId, p =>
        {
            p.PlanSummary = context.Message.Summary;
            p.PlanSteps = string.Join('\n', context.Message.Steps.Select(s => s.ReplaceLineEndings(" ")));
            p.Advance(PublicationStage.Planned);
        }, context.CancellationToken);
}

public sealed class WorkItemFailedConsumer(StatusBoard board) : IConsumer<WorkItemFailed>
{
    public Task Consume(ConsumeContext<WorkItemFailed> context) =>
        board.UpdateAsync(context.Message.CorrelationId, p =>
        {
            if (p.Advance(PublicationStage.Failed))
            {
                p.Outcome = $"{context.Message.Reason}: {context.Message.Detail}";
                p.AddUsage(context.Message.Usage);
            }
        }, context.CancellationToken);
}

public sealed class WorkItemCompletedConsumer(StatusBoard board) : IConsumer<WorkItemCompleted>
{
    public Task Consume(ConsumeContext<WorkItemCompleted> context) =>
        board.UpdateAsync(context.Message.CorrelationId, p =>
        {
            if (p.Advance(PublicationStage.Completed))
            {
                p.Outcome = context.Message.Outcome;
                p.AddUsage(context.Message.Usage);
            }
        }, context.CancellationToken);
}

public sealed class WorkItemCancelledConsumer(StatusBoard board) : IConsumer<WorkItemCancelled>
{
    public Task Consume(ConsumeContext<WorkItemCancelled> context) =>
        board.UpdateAsync(context.Message.CorrelationId, p =>
        {
            if (p.Advance(PublicationStage.Cancelled))
                p.CancelledBy = context.Message.By;
        }, context.CancellationToken);
}

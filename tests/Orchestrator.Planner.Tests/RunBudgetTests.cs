using Orchestrator.Planner.Llm;
using Orchestrator.Planner.Runs;

namespace Orchestrator.Planner.Tests;

public sealed class RunBudgetTests
{
    private static Run NewRun() => new() { WorkItemJson = "{}" };

    [Fact]
    public void The_turn_after_the_last_allowed_one_exceeds_the_turn_budget()
    {
        var run = NewRun();
        var budget = new RunBudget(run, new PlannerOptions { MaxTurns = 2 }, null, TimeProvider.System);
        budget.BeforeTurn();
        budget.BeforeTurn();

        var exceeded = Assert.Throws<BudgetExceededException>(budget.BeforeTurn);
        Assert.Equal("turn-budget-exceeded", exceeded.Reason);
        Assert.Equal("The run used all 2 of its turns (PLANNER_MAX_TURNS).", exceeded.Message);
        Assert.Equal(2, run.Turns);
    }

    [Fact]
    public void The_tool_call_after_the_last_allowed_one_exceeds_the_tool_call_budget()
    {
        var budget = new RunBudget(NewRun(), new PlannerOptions { MaxToolCalls = 1 }, null, TimeProvider.System);
        budget.BeforeToolCall();

        Assert.Equal("tool-call-budget-exceeded", Assert.Throws<BudgetExceededException>(budget.BeforeToolCall).Reason);
    }

    [Fact]
    public void Spending_past_the_cost_limit_exceeds_the_cost_budget_and_no_limit_means_none()
    {
        var price = new ModelPrice(2.50m, 10.00m);
        var budget = new RunBudget(NewRun(), new PlannerOptions { MaxCost = 0.01m }, price, TimeProvider.System);
        budget.Spend(1_000, 500);
        budget.CheckSpend();
        budget.Spend(1_000, 500);

        var exceeded = Assert.Throws<BudgetExceededException>(budget.CheckSpend);
        Assert.Equal("cost-budget-exceeded", exceeded.Reason);
        Assert.Equal("The run cost $0.0150; the limit is $0.01 (PLANNER_MAX_COST).", exceeded.Message);

        var unlimited = new RunBudget(NewRun(), new PlannerOptions { MaxCost = 0 }, price, TimeProvider.System);
        unlimited.Spend(1_000_000, 1_000_000);
        unlimited.CheckSpend();
    }

    [Fact]
    public void A_resumed_run_goes_on_from_what_it_had_spent()
    {
        var run = NewRun();
        run.Turns = 5;
        run.InputTokens = 900;
        run.Duration = TimeSpan.FromMinutes(29);
        var budget = new RunBudget(run, new PlannerOptions { MaxTurns = 6, MaxTokens = 1_000, MaxDuration = TimeSpan.FromMinutes(30) }, null, TimeProvider.System);

        Assert.True(budget.TimeLeft <= TimeSpan.FromMinutes(1));
        budget.BeforeTurn();
        Assert.Throws<BudgetExceededException>(budget.BeforeTurn);
        budget.Spend(200, 0);
        Assert.Equal("token-budget-exceeded", Assert.Throws<BudgetExceededException>(budget.CheckSpend).Reason);
    }
}

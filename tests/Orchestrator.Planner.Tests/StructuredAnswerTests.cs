using Orchestrator.Planner.Agent;
using Orchestrator.Planner.Llm;

namespace Orchestrator.Planner.Tests;

public sealed class StructuredAnswerTests
{
    [Fact]
    public void A_plan_is_read_from_prose_and_code_fences_around_it()
    {
        var (plan, error) = Plan.Parse("Sure!\n```json\n{\"summary\": \" Fix it. \", \"steps\": [\"Edit a.txt\", \" \", \"Test\"],}\n```\nDone.");

        Assert.Null(error);
        Assert.Equal("Fix it.", plan!.Summary);
        Assert.Equal(["Edit a.txt", "Test"], plan.Steps);
    }

    [Theory]
    [InlineData("I will fix the typo.", "the answer holds no JSON object")]
    [InlineData("{\"summary\": \"\", \"steps\": [\"x\"]}", "\"summary\" is empty")]
    [InlineData("{\"summary\": \"x\", \"steps\": []}", "\"steps\" is empty")]
    [InlineData("{\"summary\": \"x\", \"steps\": [1, }", "the JSON does not parse")]
    public void A_plan_that_is_not_one_says_why(string answer, string expected)
    {
        var (plan, error) = Plan.Parse(answer);

        Assert.Null(plan);
        Assert.StartsWith(expected, error);
    }

    [Fact]
    public void A_rejecting_review_must_name_its_problems_and_an_approving_one_its_commit_message()
    {
        Assert.Equal("\"approved\" is false but \"problems\" names none", Review.Parse("""{"approved": false, "problems": [""]}""").Error);
        Assert.Equal("\"commitMessage\" is empty", Review.Parse("""{"approved": true}""").Error);
        var (review, _) = Review.Parse("""{"approved": false, "problems": ["The test is missing"]}""");
        Assert.Equal(["The test is missing"], review!.Problems);
    }
}

public sealed class PriceTableTests
{
    [Fact]
    public void Known_models_dated_snapshots_and_overrides_are_priced()
    {
        var table = PriceTable.WithOverrides("gpt-4o=3/12; my-model = 0.5/1.5");

        Assert.Equal(new ModelPrice(3m, 12m), table.For("gpt-4o"));
        Assert.Equal(new ModelPrice(3m, 12m), table.For("gpt-4o-2024-08-06"));
        Assert.Equal(new ModelPrice(0.15m, 0.60m), table.For("gpt-4o-mini-2024-07-18"));
        Assert.Equal(new ModelPrice(0.5m, 1.5m), table.For("my-model"));
        Assert.Null(table.For("llama3.1"));
        Assert.Equal(0.0075m, new ModelPrice(2.5m, 10m).Cost(1_000, 500));
    }

    [Theory]
    [InlineData("gpt-4o")]
    [InlineData("gpt-4o=2.5")]
    [InlineData("gpt-4o=a/b")]
    [InlineData("=1/2")]
    [InlineData("gpt-4o=-1/2")]
    public void A_malformed_price_list_is_named(string prices) =>
        Assert.StartsWith("\"", PriceTable.ParseError(prices));
}

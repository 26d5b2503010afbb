using System.Globalization;

namespace Orchestrator.Planner.Llm;

/// <summary>What a model's tokens cost, in US dollars per million, input and output.</summary>
public sealed record ModelPrice(decimal InputPerMillion, decimal OutputPerMillion)
{
    public decimal Cost(long inputTokens, long outputTokens) =>
        (inputTokens * InputPerMillion + outputTokens * OutputPerMillion) / 1_000_000m;
}

/// <summary>
/// Prices per model: a built-in table of OpenAI's published list prices, which LLM_PRICES extends and overrides. A model
/// the table does not know has no price, and the cost budget cannot be kept for it (the service refuses to start).
/// </summary>
public sealed class PriceTable
{
    // OpenAI's list prices (USD per 1M tokens, standard tier) when this table was written; LLM_PRICES corrects them.
    private static readonly Dictionary<string, ModelPrice> BuiltIn = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-4o"] = new(2.50m, 10.00m),
        ["gpt-4o-mini"] = new(0.15m, 0.60m),
        ["gpt-4.1"] = new(2.00m, 8.00m),
        ["gpt-4.1-mini"] = new(0.40m, 1.60m),
        ["gpt-4.1-nano"] = new(0.10m, 0.40m),
        ["o3"] = new(2.00m, 8.00m),
        ["o4-mini"] = new(1.10m, 4.40m),
        ["gpt-5"] = new(1.25m, 10.00m),
        ["gpt-5-mini"] = new(0.25m, 2.00m),
        ["gpt-5-nano"] = new(0.05m, 0.40m),
    };

    private readonly Dictionary<string, ModelPrice> _prices;

    private PriceTable(Dictionary<string, ModelPrice> prices) => _prices = prices;

    /// <summary>The built-in table with <paramref name="overrides"/> (LLM_PRICES) applied. Call <see cref="ParseError"/> first.</summary>
    public static PriceTable WithOverrides(string? overrides)
    {
        var prices = new Dictionary<string, ModelPrice>(BuiltIn, StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in Parse(overrides, out _))
            prices[model] = price;
        return new PriceTable(prices);
    }

    /// <summary>The price of <paramref name="model"/>, or of the model it is a dated snapshot of ("gpt-4o-2024-08-06").</summary>
    public ModelPrice? For(string model)
    {
        if (_prices.TryGetValue(model, out var price))
            return price;
        return _prices.Where(p => model.StartsWith(p.Key + "-", StringComparison.OrdinalIgnoreCase) && char.IsAsciiDigit(model[p.Key.Length + 1]))
            .OrderByDescending(p => p.Key.Length).Select(p => p.Value).FirstOrDefault();
    }

    /// <summary>Why <paramref name="overrides"/> is not a price list, or null when it is.</summary>
    public static string? ParseError(string? overrides)
    {
        _ = Parse(overrides, out var error);
        return error;
    }

    private static List<(string Model, ModelPrice Price)> Parse(string? text, out string? error)
    {
        error = null;
        var prices = new List<(string, ModelPrice)>();
        foreach (var entry in (text ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            var amounts = parts.Length == 2 ? parts[1].Split('/', StringSplitOptions.TrimEntries) : [];
            if (parts[0].Length == 0 || amounts.Length != 2
                || !decimal.TryParse(amounts[0], NumberStyles.Number, CultureInfo.InvariantCulture, out var input)
                || !decimal.TryParse(amounts[1], NumberStyles.Number, CultureInfo.InvariantCulture, out var output)
                || input < 0 || output < 0)
            {
                error = $"\"{entry}\" is not model=input/output (US dollars per million tokens, e.g. gpt-4o=2.5/10)";
                return [];
            }
            prices.Add((parts[0], new ModelPrice(input, output)));
        }
        return prices;
    }
}

using System.Globalization;

namespace Orchestrator.Benchmarks;

/// <summary>Percentiles of a sample, and the "name: value" lines the benchmarks print.</summary>
public static class Figures
{
    public static double Percentile(IReadOnlyList<double> sample, double p)
    {
        var sorted = sample.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static void Print(string name, double value) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {value:0.###}"));
}

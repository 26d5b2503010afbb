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

    /// <summary>Runs <paramref name="run"/> <paramref name="warmup"/> times unmeasured, then <paramref name="count"/> times: each time in ms.</summary>
    public static async Task<List<double>> TimeAsync(int count, int warmup, Func<Task> run)
    {
        for (var i = 0; i < warmup; i++)
            await run();
        var sample = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await run();
            sample.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return sample;
    }

    public static void Print(string name, double value) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {value:0.###}"));
}

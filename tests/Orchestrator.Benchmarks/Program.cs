using Orchestrator.Benchmarks;

return args.FirstOrDefault() switch
{
    "gateway" => await GatewayBenchmark.RunAsync(),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Orchestrator.Benchmarks gateway");
    return 2;
}

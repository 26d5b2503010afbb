using Orchestrator.Benchmarks;

return args.FirstOrDefault() switch
{
    "gateway" => await GatewayBenchmark.RunAsync(),
    "pipeline" => await PipelineBenchmark.RunAsync(),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Orchestrator.Benchmarks gateway|pipeline");
    return 2;
}

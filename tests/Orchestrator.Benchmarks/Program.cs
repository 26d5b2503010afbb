using Orchestrator.Benchmarks;

return args.FirstOrDefault() switch
{
    "gateway" => await GatewayBenchmark.RunAsync(),
    "pipeline" => await PipelineBenchmark.RunAsync(),
    "sandbox" => await SandboxBenchmark.RunAsync(),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Orchestrator.Benchmarks gateway|pipeline|sandbox");
    return 2;
}

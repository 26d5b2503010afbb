using System.Runtime.InteropServices;
using Orchestrator.ComposeSmoke;

// scripts/compose-smoke.sh builds the base images and runs this; it tears the stack down whatever happens here.
// SIGTERM/SIGINT end the run at once (the stand-ins' web hosts would otherwise only stop themselves).
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Environment.Exit(143));
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => Environment.Exit(130));
try
{
    await ComposeSmoke.RunAsync();
    Console.WriteLine("compose smoke: passed");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"compose smoke: FAILED\n{e}");
    return 1;
}

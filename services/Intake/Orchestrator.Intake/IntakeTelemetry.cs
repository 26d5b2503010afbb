using System.Diagnostics;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake;

public static class IntakeTelemetry
{
    public const string Service = "Intake";
    public static readonly ActivitySource Source = new(ServiceDefaultsExtensions.ActivitySourceName(Service));
}

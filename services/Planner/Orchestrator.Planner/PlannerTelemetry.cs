using System.Diagnostics;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner;

public static class PlannerTelemetry
{
    public const string Service = "Planner";
    public static readonly ActivitySource Source = new(ServiceDefaultsExtensions.ActivitySourceName(Service));
}

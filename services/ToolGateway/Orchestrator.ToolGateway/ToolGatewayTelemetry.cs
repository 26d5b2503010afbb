using System.Diagnostics;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway;

public static class ToolGatewayTelemetry
{
    public const string Service = "ToolGateway";
    public static readonly ActivitySource Source = new(ServiceDefaultsExtensions.ActivitySourceName(Service));
}

using System.Diagnostics;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher;

public static class PublisherTelemetry
{
    public const string Service = "Publisher";
    public static readonly ActivitySource Source = new(ServiceDefaultsExtensions.ActivitySourceName(Service));
}

using Orchestrator.Publisher;
using Orchestrator.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(PublisherTelemetry.Service);
builder.AddPublisher();

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();

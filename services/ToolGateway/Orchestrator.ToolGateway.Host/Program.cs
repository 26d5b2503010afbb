using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(ToolGatewayTelemetry.Service);
builder.AddToolGateway();

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();

using Orchestrator.Planner;
using Orchestrator.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(PlannerTelemetry.Service);
builder.AddPlanner();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapPlanner();
return await app.RunServiceAsync();

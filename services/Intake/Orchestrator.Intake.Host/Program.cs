using Orchestrator.Intake;
using Orchestrator.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(IntakeTelemetry.Service);
builder.AddIntake();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapIntake();
return await app.RunServiceAsync();

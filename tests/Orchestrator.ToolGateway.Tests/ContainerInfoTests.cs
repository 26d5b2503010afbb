using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>The sweeper reads `docker ps` lines: name, creation time and labels.</summary>
public sealed class ContainerInfoTests
{
    [Fact]
    public void A_docker_ps_line_is_read_with_its_creation_time_and_labels()
    {
        var info = ContainerInfo.Parse("orchestrator-probe-1a2b\t2026-11-24 16:43:22 +0000 UTC\torg.orchestrator.replica=r-1,org.orchestrator.server=probe");

        Assert.Equal("orchestrator-probe-1a2b", info.Name);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 16, 43, 22, TimeSpan.Zero), info.Created);
        Assert.Equal("r-1", info.Labels["org.orchestrator.replica"]);
        Assert.Equal("probe", info.Labels["org.orchestrator.server"]);
    }

    [Fact]
    public void A_creation_time_that_cannot_be_read_counts_as_old()
    {
        Assert.Equal(DateTimeOffset.MinValue, ContainerInfo.Parse("name\tlast tuesday\t").Created);
    }
}

using System.Security.Cryptography;
using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// From the agent's tool calls to the commit on the fake GitHub, through real containers: what is published is what git
/// records in the workspace (modes, bytes, names), links are never followed, and an oversized change never becomes a message.
/// </summary>
public sealed class SandboxPipelineTests
{
    private const string Plan = """{"summary": "Do as the issue asks.", "steps": ["Change the files"]}""";

    [Fact]
    public async Task What_the_agent_changes_reaches_GitHub_as_git_records_it_with_modes_bytes_and_any_name()
    {
        var (oldLogo, newLogo) = (Png(1), Png(2));
        string? withOldLogo = null;
        await using var stack = await SandboxStack.StartAsync(seed =>
        {
            seed.Write("README.md", "# Widgets\n").Write("run.sh", "#!/bin/sh\necho hi\n", executable: true).Write("logo.png", oldLogo);
            withOldLogo = seed.Commit("Initial commit");
            seed.Write("logo.png", newLogo).Commit("A new logo");
        });
        stack.Llm.Script("Bring back the old logo")
            .Reply(Plan)
            .CallTool("filesystem_edit_file", _ => new { path = "/workspace/run.sh", edits = new[] { new { oldText = "echo hi", newText = "echo hello" } } })
            .CallTool("git_git_checkout", _ => new { path = "/workspace", target = withOldLogo, paths = new[] { "logo.png" } })
            .CallTool("filesystem_write_file", _ => new { path = "/workspace/café.md", content = "Café\n" })
            .CallTool("filesystem_create_directory", _ => new { path = "/workspace/docs" })
            .CallTool("filesystem_write_file", _ => new { path = "/workspace/docs/a file with spaces.md", content = "Spaces\n" })
            .Reply("Done.")
            .Reply(TypoFix.ApprovedReview);

        var (id, issue) = await stack.SubmitAsync("Bring back the old logo");

        var opened = await stack.WaitFor<PullRequestOpened>(id);
        var head = (await stack.GitHub.Git.ResolveAsync($"refs/heads/{opened.Branch}"))!;
        Assert.Equal("100755", await stack.GitHub.Git.ModeAsync(head, "run.sh"));
        Assert.Equal("#!/bin/sh\necho hello\n"u8.ToArray(), await stack.GitHub.Git.ReadFileAsync(head, "run.sh"));
        Assert.Equal(oldLogo, await stack.GitHub.Git.ReadFileAsync(head, "logo.png"));
        Assert.Equal("Café\n"u8.ToArray(), await stack.GitHub.Git.ReadFileAsync(head, "café.md"));
        Assert.Equal("Spaces\n"u8.ToArray(), await stack.GitHub.Git.ReadFileAsync(head, "docs/a file with spaces.md"));
        Assert.Equal($"orchestrator/issue-{issue}", opened.Branch);

        // On the way: the logo as bytes (base64 in the message), the script as an executable.
        var proposed = await stack.WaitFor<ChangesProposed>(id);
        var logo = Assert.Single(proposed.Files, f => f.Path == "logo.png");
        Assert.Equal((GitFileMode.Regular, (string?)null), (logo.Mode, logo.Content));
        Assert.Equal(oldLogo, logo.Data);
        Assert.Equal(GitFileMode.Executable, Assert.Single(proposed.Files, f => f.Path == "run.sh").Mode);
        await Eventually.Until(stack.ContainersAsync, c => c.Count == 0, SandboxStack.Timeout, "the workspace's containers to be removed");
    }

    [Fact]
    public async Task A_link_to_the_gateways_environment_brought_back_from_history_is_refused_and_nothing_is_written()
    {
        string? withLink = null;
        await using var stack = await SandboxStack.StartAsync(seed =>
        {
            seed.Write("README.md", "# Widgets\n");
            withLink = seed.Link("environ", "/proc/self/environ").Commit("A link");
            seed.Delete("environ").Commit("No link");
        });
        stack.Llm.Script("Restore environ")
            .Reply(Plan)
            .CallTool("git_git_checkout", _ => new { path = "/workspace", target = withLink, paths = new[] { "environ" } })
            .Reply("Done.")
            .Reply(TypoFix.ApprovedReview);
        var commitsBefore = (await stack.GitHub.Git.AllCommitsAsync()).Count;

        var (id, issue) = await stack.SubmitAsync("Restore environ");

        var failed = await stack.WaitFor<WorkItemFailed>(id);
        Assert.Equal("publish-refused", failed.Reason);
        Assert.Contains("`environ` is a symbolic link; links are not published (PUBLISH_ALLOW_SYMLINKS)", failed.Detail);
        // The link travelled as a link (its target), never as the environment it points at.
        var proposed = await stack.WaitFor<ChangesProposed>(id);
        Assert.Equal([new ChangedFile("environ", FileChange.Added, "/proc/self/environ", GitFileMode.Symlink)], proposed.Files);
        Assert.All(stack.Recorder.Messages, m => Assert.DoesNotContain("RABBITMQ_URL=", JsonSerializer.Serialize(m.Message, m.Message.GetType())));
        Assert.Empty(stack.GitHub.PullRequests);
        Assert.Null(await stack.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}"));
        Assert.Equal(commitsBefore, (await stack.GitHub.Git.AllCommitsAsync()).Count);
    }

    [Fact]
    public async Task A_change_over_the_limits_fails_with_changes_too_large_and_no_message_over_the_limit_leaves_a_service()
    {
        const int size = 20 * 1024 * 1024;
        string? withBigFile = null;
        await using var stack = await SandboxStack.StartAsync(seed =>
        {
            seed.Write("README.md", "# Widgets\n");
            withBigFile = seed.Write("data/big.bin", RandomNumberGenerator.GetBytes(size)).Commit("Data");
            seed.Delete("data/big.bin").Commit("No data");
        });
        stack.Llm.Script("Restore the data")
            .Reply(Plan)
            .CallTool("git_git_checkout", _ => new { path = "/workspace", target = withBigFile, paths = new[] { "data/big.bin" } })
            .Reply("Done.")
            .Reply(TypoFix.ApprovedReview);

        var (id, _) = await stack.SubmitAsync("Restore the data");

        var failed = await stack.WaitFor<WorkItemFailed>(id);
        Assert.Equal("changes-too-large", failed.Reason);
        Assert.Contains($"the change adds {size:N0} bytes; the limit is 524,288 (PUBLISH_MAX_BYTES)", failed.Detail);
        Assert.Contains("`data/big.bin`", failed.Detail);
        Assert.Empty(stack.Recorder.All<ChangesProposed>());
        Assert.Empty(stack.GitHub.PullRequests);
        // Nothing any of the three services sent came near the file: the refusal is a few hundred bytes.
        Assert.Contains(stack.Sent.All, m => m.Type == nameof(WorkspaceChangesRefused));
        Assert.True(stack.Sent.Largest.Bytes < 64 * 1024, $"{stack.Sent.Largest.Type} of {stack.Sent.Largest.Bytes:N0} bytes left a service");
        await Eventually.Until(stack.ContainersAsync, c => c.Count == 0, SandboxStack.Timeout, "the workspace's containers to be removed");
    }

    /// <summary>A PNG's signature and header chunk, then bytes that are not UTF-8, different for each <paramref name="seed"/>.</summary>
    private static byte[] Png(byte seed) =>
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0xFF, 0xFE, seed, 0x80, 0];
}

namespace Orchestrator.Testing;

/// <summary>
/// A small Node package with a real test suite run by <c>node --test</c> (JUnit results to /tmp/junit.xml), described by a
/// devcontainer.json whose Dockerfile builds on the locally built node image (no registry is reachable here), and an
/// .orchestrator.yml naming the test command. <c>add</c> has a bug until a test fixes it; <c>sub</c> is right.
/// </summary>
public static class NodeProject
{
    public const string BuggyLibrary = "exports.add = (a, b) => a - b;\nexports.sub = (a, b) => a - b;\n";
    public const string FixedLibrary = "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\n";
    public const string BrokenSubLibrary = "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a + b;\n";

    public const string Tests = """
        const test = require('node:test');
        const assert = require('node:assert');
        const { add, sub } = require('../lib.js');
        test('add', () => assert.strictEqual(add(2, 3), 5));
        test('sub', () => assert.strictEqual(sub(5, 3), 2));
        """;

    public const string TestCommand =
        "node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter=junit --test-reporter-destination=/tmp/junit.xml";

    /// <summary>
    /// The image's Dockerfile; its build records the network it had (SANDBOX_SETUP_NETWORK's) in /etc/build-net. A
    /// different <paramref name="variant"/> makes a different first layer, so no layer is shared through the engine's cache.
    /// </summary>
    public static string Dockerfile(string variant = "1") => $"""
        FROM orchestrator-test/node:20
        ENV WIDGETS_IMAGE=built-from-the-repository WIDGETS_VARIANT={variant}
        RUN for f in /sys/class/net/*; do echo $f; done > /etc/build-net
        """;

    /// <summary>Writes the package into a repository's work tree (the caller commits). <paramref name="library"/>: lib.js.</summary>
    public static GitRepository.Seed Write(GitRepository.Seed seed, string library = BuggyLibrary, string? extraTests = null, string? agents = null)
    {
        seed.Write(".devcontainer/devcontainer.json", """
                // The repository's own environment (comments and trailing commas, as VS Code writes them).
                {
                  "name": "widgets",
                  // Names that would steer the docker CLI if they reached its environment: they must reach only the sandbox.
                  "build": { "dockerfile": "Dockerfile", "context": ".", "args": { "DOCKER_HOST": "tcp://127.0.0.1:9" } },
                  "containerEnv": { "WIDGETS_MODE": "sandboxed", "DOCKER_HOST": "tcp://127.0.0.1:9", "DOCKER_CONFIG": "/nonexistent" },
                  "remoteUser": "node",
                  "postCreateCommand": ["/bin/sh", "-c", "echo ready > /tmp/setup-done; for f in /sys/class/net/*; do echo $f; done > /tmp/setup-net"],
                  "features": { "ghcr.io/devcontainers/features/python:1": {} },
                }
                """)
            .Write(".devcontainer/Dockerfile", Dockerfile())
            .Write(".orchestrator.yml", $"""
                # What Orchestrator runs to test a change.
                test:
                  command: {TestCommand}
                  results: /tmp/junit.xml
                  timeout: 120
                """)
            .Write("package.json", """{ "name": "widgets", "version": "1.0.0", "private": true }""" + "\n")
            .Write("lib.js", library)
            .Write("test/lib.test.js", Tests + (extraTests ?? ""));
        if (agents is not null)
            seed.Write("AGENTS.md", agents);
        return seed;
    }
}

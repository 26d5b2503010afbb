using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Orchestrator.Intake.Migrations
{
    /// <inheritdoc />
    public partial class GitHubIntake : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_WorkItems_Repository_IssueNumber",
                table: "WorkItems");

            migrationBuilder.AddColumn<string>(
                name: "Author",
                table: "WorkItems",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Cost",
                table: "WorkItems",
                type: "TEXT",
                nullable: false,
                defaultValue: "0");

            migrationBuilder.AddColumn<bool>(
                name: "Dispatched",
                table: "WorkItems",
                type: "INTEGER",
                nullable: false,
                // Work items written before this column existed were announced when they were accepted.
                defaultValue: true);

            migrationBuilder.AddColumn<TimeSpan>(
                name: "Duration",
                table: "WorkItems",
                type: "TEXT",
                nullable: false,
                defaultValue: new TimeSpan(0, 0, 0, 0, 0));

            migrationBuilder.AddColumn<long>(
                name: "InputTokens",
                table: "WorkItems",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "IssueUrl",
                table: "WorkItems",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Labels",
                table: "WorkItems",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<long>(
                name: "OutputTokens",
                table: "WorkItems",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<Guid>(
                name: "RetryOf",
                table: "WorkItems",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "WebhookDeliveries",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Event = table.Column<string>(type: "TEXT", nullable: false),
                    ReceivedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebhookDeliveries", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_ActivePerIssue",
                table: "WorkItems",
                columns: new[] { "Repository", "IssueNumber" },
                unique: true,
                filter: "\"IssueNumber\" IS NOT NULL AND \"Status\" IN ('Accepted', 'Planned', 'InProgress')");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_Dispatched",
                table: "WorkItems",
                column: "Dispatched");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "WebhookDeliveries");

            migrationBuilder.DropIndex(
                name: "IX_WorkItems_ActivePerIssue",
                table: "WorkItems");

            migrationBuilder.DropIndex(
                name: "IX_WorkItems_Dispatched",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "Author",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "Cost",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "Dispatched",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "Duration",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "InputTokens",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "IssueUrl",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "Labels",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "OutputTokens",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "RetryOf",
                table: "WorkItems");

            migrationBuilder.CreateIndex(
                name: "IX_WorkItems_Repository_IssueNumber",
                table: "WorkItems",
                columns: new[] { "Repository", "IssueNumber" });
        }
    }
}

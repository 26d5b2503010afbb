using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Orchestrator.Planner.Migrations
{
    /// <inheritdoc />
    public partial class RunCountersAndPhase : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Resumes",
                table: "Runs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "WorkspaceLosses",
                table: "Runs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Resumes",
                table: "Runs");

            migrationBuilder.DropColumn(
                name: "WorkspaceLosses",
                table: "Runs");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Orchestrator.Intake.Migrations
{
    /// <inheritdoc />
    public partial class WorkItemCancelAnnouncement : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "CancelDispatched",
                table: "WorkItems",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "CancelledBy",
                table: "WorkItems",
                type: "TEXT",
                nullable: true);

            // Cancelled before this column existed: announced then, as cancels were.
            migrationBuilder.Sql("UPDATE WorkItems SET CancelDispatched = 1 WHERE Status = 'Cancelled'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CancelDispatched",
                table: "WorkItems");

            migrationBuilder.DropColumn(
                name: "CancelledBy",
                table: "WorkItems");
        }
    }
}

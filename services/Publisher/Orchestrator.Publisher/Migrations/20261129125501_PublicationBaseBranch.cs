using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Orchestrator.Publisher.Migrations
{
    /// <inheritdoc />
    public partial class PublicationBaseBranch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BaseBranch",
                table: "Publications",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "BaseBranch",
                table: "Publications");
        }
    }
}

# frozen_string_literal: true

require "json"
require_relative "support/cli_helpers"

# tasker-core namespaces pause / resume / list, and the status command's paused section.
RSpec.describe "exe/tasker-core namespaces", db: true do
  before { reset_tasker_database! }

  it "pauses and resumes a namespace with the actor recorded, and status lists it" do
    paused = tasker_core("namespaces", "pause", "reports", "--actor", "carol", "--reason", "db upgrade")
    expect([paused.code, paused.out]).to eq([0, "paused reports\n"])
    expect(tasker_core("namespaces", "pause", "reports").out).to eq("reports was paused already\n")
    expect(TaskerCore.paused?("reports")).to be(true)

    list = tasker_core("namespaces", "list", "--json")
    expect(JSON.parse(list.out).map { |row| row.slice("namespace", "paused_by", "reason") })
      .to eq([{ "namespace" => "reports", "paused_by" => "carol", "reason" => "db upgrade" }])
    table = tasker_core("namespaces").out
    expect(table).to include("NAMESPACE", "reports", "carol", "db upgrade")

    status = tasker_core("status")
    expect(status.out).to match(/Paused namespaces\n.*\n\s*reports .* carol +db upgrade/)
    expect(JSON.parse(tasker_core("status", "--json").out)["paused_namespaces"].map { |row| row["namespace"] })
      .to eq(["reports"])

    resumed = tasker_core("namespaces", "resume", "reports", "--actor", "dave")
    expect([resumed.code, resumed.out]).to eq([0, "resumed reports\n"])
    expect(TaskerCore.paused?("reports")).to be(false)
    expect(tasker_core("namespaces").out).to eq("no namespace is paused\n")
    actors = with_pg { |conn| conn.exec("SELECT action, actor FROM tasker.namespace_controls ORDER BY id").to_a }
    expect(actors).to eq([{ "action" => "pause", "actor" => "carol" }, { "action" => "resume", "actor" => "dave" }])
  end

  it "exits 2 on a bad action or a missing namespace, 1 on an invalid namespace" do
    expect(tasker_core("namespaces", "stop").err)
      .to start_with("tasker-core: namespaces: unknown action \"stop\" (list, pause, resume)")
    missing = tasker_core("namespaces", "pause")
    expect([missing.code, missing.err.lines.first])
      .to eq([2, "tasker-core: namespaces: expected one NAMESPACE after pause, got nothing\n"])
    invalid = tasker_core("namespaces", "pause", "Bad")
    expect(invalid.code).to eq(1)
    expect(invalid.err).to include("invalid namespace \"Bad\"")
  end
end

# frozen_string_literal: true

module TaskerCore
  class CLI
    # Renders a workflow's DAG as Mermaid or Graphviz DOT. Steps are Hashes with "name",
    # "handler", "depends_on" and, for a task, "state" and "attempts"/"max_attempts"; a step
    # with a state is filled with its state's colour; a collapsed group of fan_out instances
    # (TaskerCore::StepGraph) also shows its "counts" per state; an edge to a skipped step is
    # dashed.
    class DagRenderer
      COLOURS = {
        "pending" => ["#eeeeee", "#9e9e9e"], "enqueued" => ["#e1f5fe", "#0288d1"],
        "in_progress" => ["#bbdefb", "#1565c0"], "waiting_for_retry" => ["#fff9c4", "#f9a825"],
        "complete" => ["#c8e6c9", "#2e7d32"], "resolved_manually" => ["#b2dfdb", "#00695c"],
        "error" => ["#ffcdd2", "#c62828"], "cancelled" => ["#d7ccc8", "#5d4037"],
        "skipped" => ["#fafafa", "#bdbdbd"]
      }.freeze

      def initialize(title, steps)
        @title = title
        @steps = steps
      end

      def render(format)
        format.to_s == "dot" ? dot : mermaid
      end

      def mermaid
        lines = ["---", "title: #{@title}", "---", "flowchart TD"]
        @steps.each { |step| lines << "  #{node_id(step["name"])}[\"#{mermaid_label(step)}\"]" }
        edges { |from, to, skipped| lines << "  #{node_id(from)} #{skipped ? "-.->" : "-->"} #{node_id(to)}" }
        states = @steps.filter_map { |step| step["state"] }.uniq
        states.each do |state|
          fill, stroke = COLOURS.fetch(state, ["#ffffff", "#000000"])
          lines << "  classDef #{state} fill:#{fill},stroke:#{stroke},color:#000"
          names = @steps.select { |step| step["state"] == state }.map { |step| node_id(step["name"]) }
          lines << "  class #{names.join(",")} #{state}"
        end
        "#{lines.join("\n")}\n"
      end

      def dot
        lines = ["digraph tasker {",
                 "  graph [rankdir=TB, labelloc=t, fontname=\"Helvetica\", label=#{quote(@title)}];",
                 "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];",
                 "  edge [color=\"#555555\"];"]
        @steps.each do |step|
          fill, stroke = COLOURS.fetch(step["state"], ["#ffffff", "#333333"])
          lines << "  #{quote(step["name"])} [label=#{quote(label_lines(step).join("\n"))}, " \
                   "fillcolor=#{quote(fill)}, color=#{quote(stroke)}];"
        end
        edges { |from, to, skipped| lines << "  #{quote(from)} -> #{quote(to)}#{" [style=dashed]" if skipped};" }
        lines << "}"
        "#{lines.join("\n")}\n"
      end

      private

      # Each edge, and whether it leads to a skipped step (a branch a decision did not take):
      # drawn dashed.
      def edges
        @steps.each do |step|
          Array(step["depends_on"]).each { |parent| yield parent, step["name"], step["state"] == "skipped" }
        end
      end

      def label_lines(step)
        lines = [step["name"], step["handler"]].compact
        if step["state"]
          attempts = step["max_attempts"] ? " #{step["attempts"]}/#{step["max_attempts"]}" : ""
          lines << "#{step["state"]}#{attempts}"
        end
        lines << step["counts"].map { |state, n| "#{state} #{n}" }.join(", ") if step["counts"]
        lines
      end

      # Step names are [a-z][a-z0-9_]*; the prefix keeps Mermaid keywords (end, graph) out.
      def node_id(name)
        "s_#{name.to_s.gsub(/[^a-z0-9_]/, "_")}"
      end

      def mermaid_label(step)
        label_lines(step).map { |line| line.to_s.gsub('"', "#quot;") }.join("<br/>")
      end

      def quote(text)
        "\"#{text.to_s.gsub("\\", "\\\\\\\\").gsub('"', '\\"').gsub("\n", '\\n')}\""
      end
    end
  end
end

# frozen_string_literal: true

require "tasker_core/step_graph"

module TaskerCore
  class Web
    # The task page's step table and DAG from a status in the collapsed form
    # (StatusQueries#task_page): the listed steps in template order, and each collapsed
    # template's summary where its instances stood (the page shows the requested page of one
    # template's instances right after its summary). A row's index is its anchor, "step-<n>",
    # which the DAG's node for it links to.
    class TaskSteps
      Row = Struct.new(:kind, :item, :anchor, keyword_init: true)
      # One collapsed template: its instances, counts ({state => n}), name and state as the DAG
      # draws its node (StepGraph.collapsed), and the page of its instances if one was asked for.
      Group = Struct.new(:template, :instances, :counts, :name, :state, :depends_on, :before, :page,
                         keyword_init: true)

      attr_reader :rows, :groups, :page

      def initialize(status)
        @page = status["instance_page"]
        @groups = Array(status["instance_groups"]).map { |group| group_of(group) }
        @rows = ordered(Array(status["steps"]), @groups)
      end

      # The templates whose instances the task has (collapsed or listed one by one).
      def templates
        (@groups.map(&:template) + @rows.filter_map { |row| row.item["element_of"] if row.kind == :step }).uniq
      end

      # The rows as StepGraph.for_drawing takes them (in row order, so a node's "row" is its
      # row's anchor): a group is one node already, `template[N]`.
      def for_drawing
        StepGraph.for_drawing(@rows.map do |row|
          next row.item if row.kind == :step

          group = row.item
          { "name" => group.name, "element_of" => group.template, "instances" => group.instances,
            "counts" => group.counts, "state" => group.state, "depends_on" => group.depends_on }
        end)
      end

      private

      def group_of(group)
        counts = group["counts"] || {}
        node = StepGraph.collapsed({ "element_of" => group["template"] }, group["instances"], counts)
        Group.new(template: group["template"], instances: group["instances"], counts: counts,
                  name: node["name"], state: node["state"], depends_on: Array(group["depends_on"]),
                  before: group["before"], page: @page && @page["template"] == group["template"] ? @page : nil)
      end

      # Steps in their order, each group before the step it stands before (or at the end).
      def ordered(steps, groups)
        before = groups.group_by(&:before)
        items = steps.flat_map { |step| before.fetch(step["name"], []).map { |g| [:group, g] } << [:step, step] }
        items += before.fetch(nil, []).map { |group| [:group, group] }
        items.each_with_index.map { |(kind, item), index| Row.new(kind: kind, item: item, anchor: index) }
      end
    end
  end
end

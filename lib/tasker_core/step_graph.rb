# frozen_string_literal: true

module TaskerCore
  # A task's steps as the graphs draw them (the CLI's `graph`, the dashboard's DAG). A
  # fan_out's instances (`square[0]`, `square[1]`, ...) stand where their per-element template
  # stood: the steps that depended on the template depend on every instance. Beyond
  # COLLAPSE_ABOVE instances they are drawn as one node, `square[N]`, with "counts" (instances
  # per state) and the state of the least advanced instance. Each step keeps its "row": its
  # position in the list it came from (the status's steps, which the dashboard links to).
  module StepGraph
    COLLAPSE_ABOVE = 20
    # The state that best describes a group: the first of these that any instance is in.
    GROUP_STATE_ORDER = %w[error in_progress waiting_for_retry enqueued pending cancelled
                           resolved_manually complete skipped].freeze

    module_function

    def for_drawing(steps, collapse_above: COLLAPSE_ABOVE)
      steps = steps.each_with_index.map { |step, row| step.to_h.transform_keys(&:to_s).merge("row" => row) }
      groups = steps.select { |step| step["element_of"] }.group_by { |step| step["element_of"] }
      return steps if groups.empty?

      big = collapsed_groups(groups, collapse_above)
      stand_ins = groups.to_h { |template, group| [template, stand_in_names(big[template], group)] }
      steps.filter_map { |step| drawn_as(step, big) }.map { |step| rewired(step, stand_ins) }
    end

    def collapsed_groups(groups, collapse_above)
      big = groups.select { |_, group| group.size > collapse_above }
      big.transform_values { |group| collapsed(group.first, group.size, group.map { |step| step["state"] }.tally) }
    end

    def rewired(step, stand_ins)
      step.merge("depends_on" => Array(step["depends_on"]).flat_map { |name| stand_ins.fetch(name, [name]) })
    end

    # What stands for a template in its dependents' depends_on.
    def stand_in_names(node, group)
      node ? [node["name"]] : group.map { |step| step["name"] }
    end

    # The step itself, its group's node (for a collapsed group's first instance) or nil.
    def drawn_as(step, big)
      node = big[step["element_of"]]
      return step unless node

      node if step["index"].zero?
    end

    # The one node of `size` instances, from one of them (`first`) and their {state => count}.
    def collapsed(first, size, counts)
      first.merge("name" => "#{first["element_of"]}[#{size}]", "instances" => size, "counts" => counts,
                  "state" => group_state(counts) || first["state"],
                  "attempts" => nil, "max_attempts" => nil, "index" => nil)
    end

    # The state that describes instances counted {state => count} (GROUP_STATE_ORDER).
    def group_state(counts)
      GROUP_STATE_ORDER.find { |state| counts.fetch(state, 0).positive? }
    end
  end
end

# frozen_string_literal: true

require "yaml"

module Examples
  TEMPLATE_DIR = File.expand_path("templates", __dir__)
  HANDLER_DIR = File.expand_path("handlers", __dir__)

  # The four example workflows: namespace => [task name, template file, even_number of the demo].
  WORKFLOWS = {
    "linear_workflow" => ["linear", "linear_workflow.yaml", 2],
    "diamond_workflow" => ["diamond", "diamond_workflow.yaml", 4],
    "tree_workflow" => ["tree", "tree_workflow.yaml", 2],
    "mixed_dag_workflow" => ["mixed_dag", "mixed_dag_workflow.yaml", 2]
  }.freeze

  module_function

  def load_handlers
    Dir[File.join(HANDLER_DIR, "*.rb")].each { |file| require file }
  end

  def template_paths
    Dir[File.join(TEMPLATE_DIR, "*.yaml")]
  end

  def template(namespace)
    YAML.safe_load(File.read(File.join(TEMPLATE_DIR, WORKFLOWS.fetch(namespace)[1])))
  end

  # What every step of a workflow must return for a given even_number, computed straight from
  # the template: a root squares the number, any other step the product of its parents.
  def expected_results(namespace, even_number)
    steps = template(namespace).fetch("steps")
    steps.each_with_object({}) do |step, results|
      parents = Array(step["depends_on"])
      base = parents.empty? ? even_number : parents.map { |name| results.fetch(name) }.reduce(1, :*)
      results[step.fetch("name")] = base**2
    end
  end

  # The step whose result is the workflow's answer (the last one in the template).
  def final_step(namespace)
    template(namespace).fetch("steps").last.fetch("name")
  end
end

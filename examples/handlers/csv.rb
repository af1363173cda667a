# frozen_string_literal: true

# Handlers of templates/csv_sum_chunks.yaml.
module Csv
  # The fan_out: context["rows"] (numbers) in chunks of config["chunk_size"].
  class Split < TaskerCore::StepHandler
    def call(task, _sequence, step)
      rows = task.context["rows"]
      raise TaskerCore::PermanentError, "context must have rows, an Array of numbers" unless rows.is_a?(Array)

      chunks = rows.each_slice(step.config.fetch("chunk_size")).to_a
      TaskerCore::FanOut.new(chunks, result: { "rows" => rows.size, "chunks" => chunks.size })
    end
  end

  # One instance per chunk: step.input is the chunk, step.index its position.
  class SumChunk < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      { "chunk" => step.index, "sum" => step.input.sum }
    end
  end

  # sequence.get("sum_chunk") is every instance's result, in chunk order.
  class Total < TaskerCore::StepHandler
    def call(_task, sequence, _step)
      chunks = sequence.get("sum_chunk")
      { "chunks" => chunks.size, "total" => chunks.sum { |chunk| chunk["sum"] } }
    end
  end
end

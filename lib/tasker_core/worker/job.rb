# frozen_string_literal: true

module TaskerCore
  class Worker
    # One message read from a step queue: where it came from and its raw JSON text.
    Job = Struct.new(:queue, :msg_id, :read_ct, :payload, keyword_init: true) do
      def to_s
        "#{queue} msg_id=#{msg_id}"
      end
    end
  end
end

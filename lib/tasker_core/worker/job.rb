# frozen_string_literal: true

module TaskerCore
  class Worker
    # One message read from a step queue: where it came from, its raw JSON text, and the
    # claim made when it was read (nil when it was read without claiming).
    Job = Struct.new(:queue, :msg_id, :read_ct, :payload, :claim, keyword_init: true) do
      def to_s
        "#{queue} msg_id=#{msg_id}"
      end
    end
  end
end

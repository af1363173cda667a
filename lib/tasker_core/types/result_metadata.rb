# frozen_string_literal: true

module TaskerCore
  module Types
    # Who ran an attempt and from which message: for the audit trail and for debugging.
    class ResultMetadata < Struct
      attributes worker_id: Name,
                 hostname: Types::Strict::String,
                 pid: Types::Strict::Integer,
                 queue: Name,
                 msg_id: Types::Strict::Integer,
                 read_ct: NonNegativeInteger
    end
  end
end

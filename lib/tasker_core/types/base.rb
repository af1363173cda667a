# frozen_string_literal: true

require "dry-types"
require "tasker_core/errors"

module TaskerCore
  # dry-types for the messages the worker reads and writes. Strict: nothing is coerced from
  # strings that look like numbers; a message of the wrong shape is refused, not repaired.
  module Types
    include Dry.Types()

    UUID_FORMAT = /\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/

    # A message or value that does not match its type; the message names the type and the field.
    class InvalidError < TaskerCore::Error; end

    Uuid = Types::Strict::String.constrained(format: UUID_FORMAT)
    Name = Types::Strict::String.constrained(min_size: 1)
    PositiveInteger = Types::Strict::Integer.constrained(gteq: 1)
    NonNegativeInteger = Types::Strict::Integer.constrained(gteq: 0)
    OptionalString = Types::Strict::String.optional
    JsonObject = Types::Strict::Hash
    StringList = Types::Strict::Array.of(Types::Strict::String)
    # Seconds (or milliseconds): any real number; JSON has no separate integer type.
    Number = Types::Strict::Integer | Types::Strict::Float
    NonNegativeNumber = Types::Strict::Integer.constrained(gteq: 0) | Types::Strict::Float.constrained(gteq: 0)
  end
end

# frozen_string_literal: true

module TaskerCore
  module Types
    # A read-only struct whose attributes are checked by a dry-types Hash schema.
    #
    #   class Point < TaskerCore::Types::Struct
    #     attributes x: Types::Strict::Integer, "label?": Types::Strict::String
    #   end
    #   Point.new("x" => 1).x  # => 1   (string or symbol keys; unknown keys are ignored)
    #
    # Keys ending in "?" may be absent (their reader returns nil). An attribute named like one
    # of Object's methods (`class`) has no reader: use `struct[:class]`. Invalid input raises
    # TaskerCore::Types::InvalidError naming the struct and the problem.
    class Struct
      class << self
        attr_reader :schema, :attribute_names

        def attributes(definition)
          @schema = Types::Hash.schema(definition).with_key_transform(&:to_sym)
          @attribute_names = definition.keys.map { |key| key.to_s.delete_suffix("?").to_sym }.freeze
          @attribute_names.each do |name|
            # Never shadow Object's own methods (`class`, `hash`...): read those with `[]`.
            define_method(name) { @attributes[name] } unless Object.public_method_defined?(name)
          end
        end

        # The dry-type of this struct, for nesting: accepts an instance or a Hash.
        def type
          klass = self
          Types.Instance(klass).constructor { |value| value.is_a?(klass) ? value : klass.new(value) }
        end

        alias call new
      end

      def initialize(input = {})
        raise InvalidError, "#{self.class.name} expects a Hash, got #{input.class}" unless input.is_a?(::Hash)

        @attributes = self.class.schema.call(input).freeze
      rescue Dry::Types::CoercionError => e
        raise InvalidError, "invalid #{self.class.name}: #{e.message}"
      end

      def [](name)
        @attributes[name.to_sym]
      end

      # Attributes as a Hash with symbol keys; nested structs stay structs.
      def attributes
        @attributes.dup
      end

      # Plain data with string keys, nested structs included: what goes into JSON.
      def to_h
        self.class.attribute_names.each_with_object({}) do |name, out|
          out[name.to_s] = Struct.plain(@attributes[name])
        end
      end

      def self.plain(value)
        case value
        when Struct then value.to_h
        when ::Array then value.map { |item| plain(item) }
        else value
        end
      end

      def ==(other)
        other.class == self.class && other.attributes == attributes
      end
      alias eql? ==

      def hash
        [self.class, @attributes].hash
      end

      def inspect
        fields = self.class.attribute_names.map { |name| "#{name}=#{@attributes[name].inspect}" }
        "#<#{self.class.name} #{fields.join(", ")}>"
      end
      alias to_s inspect
    end
  end
end

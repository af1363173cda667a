# frozen_string_literal: true

module TaskerCore
  class Worker
    # Checks that a handler's return value is plain JSON and returns a plain copy of it:
    # Hash (String or Symbol keys), Array, String (valid UTF-8), Integer (any size), finite
    # Float, true, false, nil. Anything else raises NotJson naming the value's class and its
    # path; nothing is ever turned into JSON through to_s or to_json.
    module JsonValue
      # How deep a value may nest (a result, an ancestor's result in a claim). The messages that
      # carry such values are generated and parsed with `nesting(levels)`, this plus the levels
      # of the message around the value, so a value that passed the check always fits its
      # message; the orchestrator's parser (recursion limit 128) takes all of them.
      MAX_DEPTH = 100
      NUL_PROBLEM = "contains a NUL character (\\u0000), which PostgreSQL's jsonb cannot store"

      # A value that cannot be a step result; `path` is like `$.items[2].price`.
      class NotJson < StandardError
        attr_reader :path, :value_class

        def initialize(path, value_class, problem)
          @path = path
          @value_class = value_class
          super("#{value_class} at #{path}: #{problem}")
        end
      end

      module_function

      # The nesting limit of a JSON document that holds values `levels` deep inside it: 1 for a
      # result message ({"result": value}), 2 for a claim ({"ancestors": {"name": value}}).
      def nesting(levels)
        MAX_DEPTH + levels
      end

      def normalize(value, path = "$", depth = 0)
        case value
        when nil, true, false, Integer then value
        when Float then finite_float(value, path)
        when String then utf8_string(value, path)
        when Array then array(value, path, depth)
        when Hash then hash(value, path, depth)
        else
          raise NotJson.new(path, value.class,
                            "not a JSON type (use Hash, Array, String, Integer, Float, true, false or nil)")
        end
      end

      def finite_float(value, path)
        return value if value.finite?

        raise NotJson.new(path, Float, "#{value} has no JSON representation")
      end

      def utf8_string(value, path)
        utf8 = value.encoding == Encoding::UTF_8 ? value : value.encode(Encoding::UTF_8)
        raise NotJson.new(path, value.class, "invalid UTF-8") unless utf8.valid_encoding?
        raise NotJson.new(path, value.class, NUL_PROBLEM) if utf8.include?("\0")

        String.new(utf8)
      rescue EncodingError
        raise NotJson.new(path, value.class, "cannot be converted to UTF-8 (binary data? encode it, e.g. Base64)")
      end

      def array(value, path, depth)
        check_depth(path, depth)
        value.each_with_index.map { |item, index| normalize(item, "#{path}[#{index}]", depth + 1) }
      end

      def hash(value, path, depth)
        check_depth(path, depth)
        value.each_with_object({}) do |(key, item), out|
          name = key_name(key, path)
          child = child_path(path, name)
          raise NotJson.new(child, key.class, "duplicate key #{name.inspect}") if out.key?(name)

          out[name] = normalize(item, child, depth + 1)
        end
      end

      def key_name(key, path)
        case key
        when String then utf8_string(key, path)
        when Symbol then key.name
        else raise NotJson.new(path, key.class, "Hash key #{key.inspect} is not a String or Symbol")
        end
      end

      def child_path(path, name)
        name.match?(/\A[A-Za-z_][A-Za-z0-9_]*\z/) ? "#{path}.#{name}" : "#{path}[#{name.inspect}]"
      end

      def check_depth(path, depth)
        return if depth < MAX_DEPTH

        raise NotJson.new(path, Object, "nested deeper than #{MAX_DEPTH} levels")
      end
    end
  end
end

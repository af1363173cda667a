# frozen_string_literal: true

require "rack/utils"

module TaskerCore
  class Web
    # A request's parameters, checked before any page reads them: the query string (and a
    # POST's form) must decode, and every name and value must be valid UTF-8. #problem names the
    # first that is not; the dashboard answers it with a 400 instead of failing on it later.
    module InputCheck
      UNDECODABLE = [Rack::QueryParser::InvalidParameterError, Rack::QueryParser::ParameterTypeError,
                     Rack::QueryParser::ParamsTooDeepError, Rack::QueryParser::QueryLimitError].freeze

      module_function

      # nil when the parameters are fine, else a message naming what is wrong.
      def problem(request)
        sources = { "query parameter" => -> { request.GET } }
        sources["form field"] = -> { request.POST } if request.post?
        sources.each do |kind, params|
          found = invalid(kind, params)
          return found if found
        end
        nil
      end

      def invalid(kind, params)
        params.call.each do |name, value|
          return "a #{kind} name is not valid UTF-8" unless utf8?(name)
          return "#{kind} #{name} is not valid UTF-8" unless utf8?(value)
        end
        nil
      rescue *UNDECODABLE => e
        "the #{kind == "form field" ? "form" : "query string"} cannot be decoded: #{e.message.scrub[0, 200]}"
      end

      def utf8?(value)
        case value
        when String then value.valid_encoding?
        when Array then value.all? { |item| utf8?(item) }
        when Hash then value.all? { |key, item| utf8?(key) && utf8?(item) }
        else true
        end
      end
    end
  end
end

# frozen_string_literal: true

require "securerandom"
require "rack/utils"

module TaskerCore
  class Web
    # One CSRF token per session. Inside a host app with sessions (Rails, Rack::Session) the
    # token lives in rack.session; standalone it lives in an HttpOnly, SameSite=Strict cookie
    # scoped to the mount path. Every action form carries it; a POST whose field does not match,
    # or that the browser marks as cross-site (Sec-Fetch-Site), is refused.
    class Csrf
      SESSION_KEY = "tasker_core.csrf_token"
      COOKIE = "tasker_core_csrf"
      FIELD = "_csrf"
      TOKEN = /\A[A-Za-z0-9_-]{43}\z/

      def initialize(request)
        @request = request
        @session = request.env["rack.session"]
        @new_cookie = nil
      end

      def token
        @token ||= stored_token || create_token
      end

      def valid?(submitted)
        return false if @request.get_header("HTTP_SEC_FETCH_SITE") == "cross-site"

        expected = stored_token
        return false unless expected && submitted.is_a?(String) && submitted.bytesize == expected.bytesize

        Rack::Utils.secure_compare(expected, submitted)
      end

      # Sets the cookie on the response when the token was created by this request (no session).
      def commit(headers)
        return unless @new_cookie

        path = @request.script_name.to_s.empty? ? "/" : @request.script_name
        cookie = "#{COOKIE}=#{@new_cookie}; path=#{path}; HttpOnly; SameSite=Strict#{"; Secure" if @request.ssl?}"
        existing = headers["set-cookie"]
        headers["set-cookie"] = existing.nil? || existing.empty? ? cookie : "#{existing}\n#{cookie}"
      end

      private

      def stored_token
        value = @session ? @session[SESSION_KEY] : @request.cookies[COOKIE]
        value if value.is_a?(String) && value.match?(TOKEN)
      end

      def create_token
        value = SecureRandom.urlsafe_base64(32)
        if @session
          @session[SESSION_KEY] = value
        else
          @new_cookie = value
        end
        value
      end
    end
  end
end

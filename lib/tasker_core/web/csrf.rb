# frozen_string_literal: true

require "openssl"
require "securerandom"
require "uri"
require "rack/utils"

module TaskerCore
  class Web
    # The CSRF check of the action forms, two locks that a POST must both open:
    #
    # - The token. Inside a host app with sessions (Rails, Rack::Session) a random token lives
    #   in rack.session, which the host signs. Standalone (`tasker-core web --actions`) a random
    #   value lives in an HttpOnly, SameSite=Strict cookie scoped to the mount path, and the form
    #   carries its HMAC under the server's secret (#secret): a page that can plant a cookie (on
    #   another port of the host, on a sibling subdomain) cannot compute the matching field.
    # - The origin. The browser must say the POST comes from the dashboard's own origin:
    #   `Sec-Fetch-Site: same-origin`, or, from a browser that does not send it, an Origin (else
    #   Referer) equal to the request's own scheme, host and port.
    class Csrf
      SESSION_KEY = "tasker_core.csrf_token"
      COOKIE = "tasker_core_csrf"
      FIELD = "_csrf"
      TOKEN = /\A[A-Za-z0-9_-]{43}\z/ # 32 random bytes, or an HMAC-SHA256, in URL-safe base64
      SECRET_MIN_BYTES = 32
      HMAC_CONTEXT = "tasker-core dashboard csrf\0"

      FOREIGN = "This request did not come from this dashboard's own pages (%s), so it was refused. " \
                "Open the dashboard, reload the page and try again."
      MISMATCH = "The form's CSRF token did not match this session. Reload the page and try again."

      # The secret that signs standalone tokens: `value` when set, else one generated once per
      # process. A set value must be a String of at least SECRET_MIN_BYTES bytes; `name` is the
      # setting named in the ConfigurationError.
      def self.secret(value, name)
        return generated_secret if value.nil?
        return value if value.is_a?(String) && value.bytesize >= SECRET_MIN_BYTES

        got = value.is_a?(String) ? "#{value.bytesize} bytes" : value.class.name
        raise TaskerCore::ConfigurationError,
              "#{name} must be a String of at least #{SECRET_MIN_BYTES} bytes (got #{got}); " \
              "for example SecureRandom.hex(32)"
      end

      def self.generated_secret
        @generated_secret || SECRET_LOCK.synchronize { @generated_secret ||= SecureRandom.bytes(SECRET_MIN_BYTES) }
      end
      SECRET_LOCK = Mutex.new

      def initialize(request, secret:)
        @request = request
        @session = request.env["rack.session"]
        @secret = secret
        @new_cookie = nil
      end

      # The value the forms carry.
      def token
        @token ||= @session ? session_token : signed(cookie_value || create_cookie_value)
      end

      # nil when the POST may proceed, else the message that says why it may not.
      def refusal(submitted)
        foreign = foreign_origin
        return format(FOREIGN, foreign) if foreign
        return MISMATCH unless submitted.is_a?(String) && submitted.match?(TOKEN)

        expected = @session ? stored_session_token : cookie_value && signed(cookie_value)
        expected && Rack::Utils.secure_compare(expected, submitted) ? nil : MISMATCH
      end

      # Sets the cookie on the response when this request created its value (no session).
      def commit(headers)
        return unless @new_cookie

        path = @request.script_name.to_s.empty? ? "/" : @request.script_name
        cookie = "#{COOKIE}=#{@new_cookie}; path=#{path}; HttpOnly; SameSite=Strict#{"; Secure" if @request.ssl?}"
        existing = headers["set-cookie"]
        headers["set-cookie"] = existing.nil? || existing.empty? ? cookie : "#{existing}\n#{cookie}"
      end

      private

      # nil when the browser says the request comes from this origin, else what it said.
      def foreign_origin
        site = @request.get_header("HTTP_SEC_FETCH_SITE")
        return site == "same-origin" ? nil : "Sec-Fetch-Site: #{site.inspect}" if site

        origin = @request.get_header("HTTP_ORIGIN")
        return origin.b.downcase == own_origin ? nil : "Origin: #{origin.inspect}" if origin

        referer = @request.get_header("HTTP_REFERER")
        return "no Sec-Fetch-Site, Origin or Referer header" unless referer

        origin_of(referer) == own_origin ? nil : "a Referer from another origin"
      end

      # scheme://host[:port] of this request, as browsers write an Origin (bytes, lower case).
      def own_origin
        @request.base_url.b.downcase
      end

      def origin_of(url)
        uri = URI.parse(url)
        return nil unless uri.scheme && uri.host

        port = uri.port == uri.default_port ? "" : ":#{uri.port}"
        "#{uri.scheme}://#{uri.host}#{port}".b.downcase
      rescue URI::Error, ::ArgumentError
        nil
      end

      def signed(value)
        [OpenSSL::HMAC.digest("SHA256", @secret, HMAC_CONTEXT + value)].pack("m0").tr("+/", "-_").delete("=")
      end

      def session_token
        stored_session_token || (@session[SESSION_KEY] = random_value)
      end

      def stored_session_token
        value = @session[SESSION_KEY]
        value if value.is_a?(String) && value.match?(TOKEN)
      end

      def cookie_value
        value = @new_cookie || @request.cookies[COOKIE]
        value if value.is_a?(String) && value.match?(TOKEN)
      end

      def create_cookie_value
        @new_cookie = random_value
      end

      def random_value
        SecureRandom.urlsafe_base64(32)
      end
    end
  end
end

# frozen_string_literal: true

module Bench
  module Sections
    class Peers
      attr_accessor :prior

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        { "skipped" => "not written yet" }
      end
    end
  end
end

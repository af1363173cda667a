# frozen_string_literal: true

module Bench
  module Sections
    class Memory
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

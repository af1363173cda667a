# frozen_string_literal: true

require "tasker_core/states"
require "tasker_core/step_graph"

module TaskerCore
  class Web
    # Which of a fan_out's instances the task page lists. A per-element template with more
    # than StepGraph::COLLAPSE_ABOVE instances (where the DAG draws them as one node) gets one
    # summary row with its counts per state; its instances are listed a page at a time, on
    # request: ?instances=<template>, optionally &state=<step state>, &page=<n> (from 1,
    # PAGE_SIZE instances each, in element order). #error names a parameter that is not
    # valid (the page answers 400).
    class InstancePage
      PAGE_SIZE = 50
      MAX_PAGE = 1_000_000
      PAGE_FORMAT = /\A[0-9]{1,7}\z/

      attr_reader :template, :state, :page, :error

      def initialize(params)
        @page = 1
        @error = check(params["instances"], params["state"], params["page"])
      end

      def valid?
        @error.nil?
      end

      def offset
        (page - 1) * PAGE_SIZE
      end

      # The arguments of StatusQueries#task_page.
      def query
        { collapse_above: StepGraph::COLLAPSE_ABOVE, template: template, state: state, offset: offset,
          limit: PAGE_SIZE }
      end

      # How many pages `total` instances fill (at least one, an empty one).
      def pages(total)
        [(total + PAGE_SIZE - 1) / PAGE_SIZE, 1].max
      end

      # The query string of another view of the instances (nil values left out).
      def params_for(template: self.template, state: self.state, page: nil)
        { "instances" => template, "state" => state, "page" => page&.to_s }.compact
      end

      private

      def check(template, state, page)
        given = { "instances" => template, "state" => state, "page" => page }
        repeated = repeated(given)
        return repeated if repeated

        template, state, page = given.values.map(&:to_s)
        @template = template unless template.empty?
        @state = state unless state.empty?
        state_problem || (@template.nil? && !(state + page).empty? && "state and page need instances=<template>") ||
          page_number(page)
      end

      # A parameter given as a list or hash (?page[]=1), named.
      def repeated(given)
        name, = given.find { |_, value| !value.nil? && !value.is_a?(String) }
        name && "#{name} must be given once, as a plain value"
      end

      def state_problem
        return nil if @state.nil? || States::STEP.include?(@state)

        "state #{@state.inspect} is not a step state (#{States::STEP.join(", ")})"
      end

      def page_number(page)
        return nil if page.empty?

        number = page.match?(PAGE_FORMAT) ? Integer(page, 10) : 0
        return "page must be a whole number from 1 to #{MAX_PAGE}, not #{page[0, 40].inspect}" unless
          number.between?(1, MAX_PAGE)

        @page = number
        nil
      end
    end
  end
end

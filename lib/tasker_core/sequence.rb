# frozen_string_literal: true

require "tasker_core/errors"

module TaskerCore
  # The results of a step's ancestors (every step it depends on, directly or not), as the
  # handler sees them:
  #
  #   sequence.get("validate_order")   # => that step's results; raises if it is no ancestor
  #   sequence.get_results("validate_order"), sequence.get_result("validate_order", "id"),
  #   sequence.has?("validate_order")  # the Tasker family's names
  #   sequence.parents                 # => {"parent_a" => ..., "parent_b" => ...} (depends_on order)
  #   sequence.get("process_chunk")    # a fan_out's per-element template: its instances' results
  #   sequence.skipped?("auto_approve") # a step a decision left out; its get is nil
  #   sequence.each { |name, results| ... }
  #
  # An ancestor's result too large to travel in the claim (a fan_out's plain Array, in each of
  # its instances) is `deferred`: read from the database the first time it is asked for,
  # through `loader` (the worker's), then kept.
  class Sequence
    include Enumerable

    # Asking for a step that is not an ancestor: a typo, or a missing depends_on.
    class UnknownStepError < TaskerCore::Error; end

    attr_reader :depends_on, :step_name

    # Reading a deferred ancestor's result without a loader (a Sequence built by hand).
    class NotLoadedError < TaskerCore::Error; end

    def initialize(results = {}, depends_on: [], step_name: nil, skipped: [], deferred: [], loader: nil)
      @results = results.to_h.transform_keys(&:to_s).freeze
      @skipped = skipped.map(&:to_s).freeze
      @depends_on = depends_on.map(&:to_s).freeze
      @step_name = step_name
      @deferred = (deferred.map(&:to_s) - @results.keys).freeze
      @loader = loader
      @loaded = {}
    end

    def get(name)
      key = name.to_s
      return @results[key] if @results.key?(key)
      return load(key) if @deferred.include?(key)

      raise UnknownStepError, unknown_step_message(key)
    end
    alias [] get
    # The Tasker family's name for get.
    alias get_results get

    # Whether that ancestor was skipped (a decision did not choose it, or every parent of it
    # was skipped); `get` of a skipped step is nil.
    def skipped?(name)
      key = name.to_s
      raise UnknownStepError, unknown_step_message(key) unless key?(key)

      @skipped.include?(key)
    end

    # One key of a step's results (a Hash); string or symbol keys.
    def get_result(name, key)
      results = get(name)
      return nil unless results.is_a?(Hash)

      results.key?(key.to_s) ? results[key.to_s] : results[key]
    end

    def fetch(name, *default)
      return get(name) if key?(name)
      return yield(name.to_s) if block_given?
      return default.first unless default.empty?

      get(name)
    end

    def key?(name)
      @results.key?(name.to_s) || @deferred.include?(name.to_s)
    end
    alias include? key?
    alias has? key?

    # Direct parents' results, in the order of the step's depends_on.
    def parents
      @depends_on.to_h { |name| [name, get(name)] }
    end

    def names
      @results.keys + @deferred
    end

    def each
      return enum_for(:each) unless block_given?

      names.each { |name| yield name, get(name) }
      self
    end

    def size
      names.size
    end

    def empty?
      names.empty?
    end

    def to_h
      names.to_h { |name| [name, get(name)] }
    end

    def inspect
      "#<#{self.class.name} step=#{@step_name.inspect} ancestors=#{names.inspect}>"
    end

    private

    def load(key)
      return @loaded[key] if @loaded.key?(key)

      unless @loader
        raise NotLoadedError, "the result of #{key.inspect} was not carried in the claim (too large) and this " \
                              "sequence has no loader to read it"
      end

      @loaded[key] = @loader.call(key)
    end

    def unknown_step_message(key)
      subject = @step_name ? "step #{@step_name.inspect}" : "this step"
      known = names.empty? ? "it has no ancestors" : "its ancestors are: #{names.join(", ")}"
      "#{key.inspect} is not an ancestor of #{subject} (#{known}); " \
        "add it to depends_on in the template to read its results"
    end
  end
end

# frozen_string_literal: true

module TaskerCore
  # Lifecycle events, published through ActiveSupport::Notifications when ActiveSupport is
  # loaded, and always to the subscribers registered here (so a subscriber made before Rails
  # loaded still hears everything).
  #
  #   TaskerCore::Notifications.subscribe("task.failed.tasker_core") do |name, payload|
  #     Alerts.page("#{payload[:namespace]}/#{payload[:name]} failed: #{payload[:task_uuid]}")
  #   end
  #   TaskerCore::Notifications.subscribe { |name, payload| ... }   # every tasker_core event
  #
  # Where each event is published (the process that saw it happen):
  #   task.created                      the process that called TaskerCore.create_task
  #   step.started / completed / failed the worker process that ran the attempt
  #   step.retried, task.completed / failed / cancelled / resolved
  #                                     the process whose orchestrator processed the result
  #                                     (or made the operator call)
  # Payloads are Hashes with Symbol keys (task_uuid, namespace, name, step_name, ...).
  module Notifications
    SUFFIX = ".tasker_core"
    EVENTS = %w[
      task.created task.completed task.failed task.cancelled task.resolved
      step.started step.completed step.failed step.retried
    ].map { |event| "#{event}#{SUFFIX}" }.freeze
    ALL = /\.tasker_core\z/

    # What subscribe returns; pass it to unsubscribe.
    Subscription = Struct.new(:pattern, :block, :backend_handle) do
      def match?(name)
        pattern.is_a?(Regexp) ? pattern.match?(name) : pattern == name
      end
    end

    @subscriptions = []
    @lock = Mutex.new

    class << self
      # Publishes one event. A subscriber that raises is logged and never breaks the caller.
      def instrument(name, payload = {})
        name = name.to_s
        payload = symbolize(payload)
        deliver_local(name, payload)
        deliver_active_support(name, payload)
        nil
      end

      # pattern: an event name, a Regexp, or nil for every tasker_core event. The block gets
      # (name, payload). Uses ActiveSupport::Notifications when it is loaded at this moment.
      def subscribe(pattern = nil, &block)
        raise ::ArgumentError, "subscribe needs a block" unless block

        pattern = normalize_pattern(pattern)
        subscription = Subscription.new(pattern, block, nil)
        if active_support?
          subscription.backend_handle = ActiveSupport::Notifications.subscribe(pattern) do |*args|
            block.call(args.first, args.last)
          end
        else
          @lock.synchronize { @subscriptions += [subscription] }
        end
        subscription
      end

      def unsubscribe(subscription)
        if subscription.backend_handle
          ActiveSupport::Notifications.unsubscribe(subscription.backend_handle)
        else
          @lock.synchronize { @subscriptions -= [subscription] }
        end
        nil
      end

      def active_support?
        defined?(::ActiveSupport::Notifications) ? true : false
      end

      private

      def normalize_pattern(pattern)
        case pattern
        when nil then ALL
        when Regexp then pattern
        else pattern.to_s
        end
      end

      def deliver_local(name, payload)
        @subscriptions.each do |subscription|
          next unless subscription.match?(name)

          guarded(name) { subscription.block.call(name, payload) }
        end
      end

      def deliver_active_support(name, payload)
        return unless active_support?

        guarded(name) { ActiveSupport::Notifications.instrument(name, payload) }
      end

      def guarded(name)
        yield
      rescue StandardError => e
        TaskerCore.logger.warn("tasker-core: a subscriber to #{name} raised #{e.class}: #{e.message}")
      end

      def symbolize(payload)
        payload.to_h.transform_keys(&:to_sym)
      end
    end
  end
end

require "tasker_core/notifications/log_subscriber"

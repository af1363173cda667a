# frozen_string_literal: true

# Sidekiq 6 with Redis: the chain job. Loaded by `sidekiq -r` (to work) and by the bench (to
# enqueue). Job logging is turned down to warnings, as our worker logs nothing per step.

require "sidekiq"

# redis-rb 4.8 warns on every SADD that Sidekiq 6.4 makes (a return type changing in redis-rb 5).
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

redis = { url: ENV.fetch("BENCH_REDIS_URL", "redis://127.0.0.1:6390/0") }
Sidekiq.configure_client { |config| config.redis = redis }
Sidekiq.configure_server do |config|
  config.redis = redis
  config.logger.level = Logger::WARN
  config.on(:startup) do
    $stdout.puts "ready #{Process.pid}"
    $stdout.flush
  end
end

# One link of a chain: enqueues the next; the last one records the chain's completion time.
class ChainWorker
  include Sidekiq::Worker
  sidekiq_options queue: "bench_chain", retry: false

  def perform(chain, step, steps)
    if step < steps
      ChainWorker.perform_async(chain, step + 1, steps)
    else
      Sidekiq.redis { |r| r.rpush("bench:done", "#{chain} #{Time.now.to_f}") }
    end
  end
end

# frozen_string_literal: true

require "spec_helper"

RSpec.describe "Worker plumbing" do
  describe TaskerCore::Worker::Lifecycle do
    it "cuts a sleep short on stop" do
      lifecycle = described_class.new
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      Thread.new do
        sleep 0.05
        lifecycle.stop!
      end
      expect(lifecycle.sleep(5)).to be(false)
      expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 1
      expect(lifecycle).to be_stopping
    end

    it "sleeps the full time otherwise" do
      expect(described_class.new.sleep(0.01)).to be(true)
    end
  end

  describe TaskerCore::Worker::Capacity do
    it "counts in-flight messages and wakes the fetcher on release" do
      waker = TaskerCore::Worker::Waker.new
      capacity = described_class.new(3, waker)
      capacity.acquire(2)
      expect(capacity.free).to eq(1)
      capacity.release
      expect(capacity.in_flight).to eq(1)
      expect(waker.reader.wait_readable(1)).to be_truthy
      expect(waker.drain).to be(true)
      expect(waker.drain).to be(false)
      waker.close
      expect { waker.wake! }.not_to raise_error
    end
  end

  describe TaskerCore::Worker::Stats do
    it "counts from many threads and refuses unknown keys" do
      stats = described_class.new
      Array.new(8) { Thread.new { 1000.times { stats.increment(:processed) } } }.each(&:join)
      expect(stats[:processed]).to eq(8000)
      expect { stats.increment(:nope) }.to raise_error(ArgumentError)
    end
  end

  describe TaskerCore::Worker::QueueClient do
    it "derives LISTEN channels from queue names the way the insert trigger does" do
      expect(described_class.channel("fulfillment_queue")).to eq("tasker_q_fulfillment_queue")
    end
  end
end

# frozen_string_literal: true

require "spec_helper"

RSpec.describe TaskerCore::Worker::Settings do
  let(:url) { "postgresql://tasker:s3cret@db.example:5432/tasker" }

  def settings(**options)
    described_class.new(namespaces: %w[fulfillment], database_url: url, **options)
  end

  it "derives queue names from namespaces" do
    expect(described_class.new(namespaces: %i[a b2 a], database_url: url).queues).to eq(%w[a_queue b2_queue])
  end

  it "defaults batch_size to concurrency and reads the rest from the configuration" do
    config = TaskerCore::Configuration.new
    s = settings(concurrency: 6)
    expect(s.batch_size).to eq(6)
    expect(s.visibility_timeout).to eq(config.visibility_timeout)
    expect(s.poll_interval).to eq(config.poll_interval.to_f)
  end

  ["", "Upper", "1abc", "a-b", "a;drop table x", "a" * 42, nil, 5].each do |bad|
    it "refuses namespace #{bad.inspect} before any SQL" do
      expect { described_class.new(namespaces: [bad], database_url: url) }
        .to raise_error(TaskerCore::ArgumentError, /invalid namespace/)
    end
  end

  it "refuses no namespaces, bad numbers and unknown options" do
    expect { described_class.new(namespaces: [], database_url: url) }.to raise_error(TaskerCore::ArgumentError)
    expect { settings(concurrency: 0) }.to raise_error(TaskerCore::ArgumentError, /concurrency/)
    expect { settings(poll_interval: -1) }.to raise_error(TaskerCore::ArgumentError, /poll_interval/)
    expect { settings(visibility_timeout: 1.5) }.to raise_error(TaskerCore::ArgumentError, /visibility_timeout/)
    expect { settings(colour: "red") }.to raise_error(TaskerCore::ArgumentError, /unknown worker options: colour/)
  end

  it "never shows the password" do
    expect(settings.redacted_database_url).to eq("postgresql://tasker:***@db.example:5432/tasker")
    expect { described_class.new(namespaces: %w[a], database_url: "mysql://u:pw@h/db") }
      .to raise_error(TaskerCore::ArgumentError) { |e| expect(e.message).not_to include("pw") }
  end

  it "makes Worker.new validate before touching the database" do
    expect { TaskerCore::Worker.new(namespaces: ["Bad Name"]) }.to raise_error(TaskerCore::ArgumentError)
  end
end

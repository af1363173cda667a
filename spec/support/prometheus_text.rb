# frozen_string_literal: true

# A strict parser of the Prometheus text exposition format (0.0.4), for specs: anything the
# format does not allow raises PrometheusText::Invalid naming the line. Returns the families
# in order: {name => {"type", "help", "samples" => [{"name", "labels", "value"}]}}.
# Strict beyond the format's minimum: every family has exactly one # HELP and one # TYPE,
# both before its samples; a family's samples are contiguous; no series appears twice; no
# blank lines; the text ends with a newline.
module PrometheusText
  class Invalid < StandardError; end

  NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/
  LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/
  LABEL_VALUE = /"(?:[^"\\\n]|\\[\\"n])*"/
  FLOAT = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN/
  SAMPLE = /\A(?<name>#{NAME})(?:\{(?<labels>.*)\})? (?<value>#{FLOAT})(?: (?<ts>-?\d+))?\z/
  LABEL = /\A(?<name>#{LABEL_NAME})=(?<value>#{LABEL_VALUE})(?:,|\z)/
  TYPES = %w[counter gauge histogram summary untyped].freeze
  SUFFIXES = { "summary" => %w[_sum _count], "histogram" => %w[_bucket _sum _count] }.freeze

  module_function

  def parse(text)
    raise Invalid, "the text must end with a newline" unless text.end_with?("\n")

    state = { families: {}, current: nil, series: {} }
    text.split("\n", -1)[0..-2].each_with_index do |line, index|
      parse_line(line, index + 1, state)
    rescue Invalid => e
      raise Invalid, "line #{index + 1} (#{line.inspect}): #{e.message}"
    end
    state[:families].each do |name, family|
      raise Invalid, "family #{name} has no # HELP" unless family["help"]
    end
    state[:families]
  end

  def parse_line(line, _number, state)
    raise Invalid, "blank line" if line.empty?

    if line.start_with?("# HELP ", "# TYPE ")
      descriptor(line, state)
    elsif line.start_with?("#")
      raise Invalid, "a comment that is not # HELP or # TYPE"
    else
      sample(line, state)
    end
  end

  def descriptor(line, state)
    kind, name, rest = line.delete_prefix("# ").split(" ", 3)
    raise Invalid, "bad metric name" unless name&.match?(/\A#{NAME}\z/)

    family = (state[:families][name] ||= { "samples" => [] })
    raise Invalid, "# #{kind} after the family's samples" unless family["samples"].empty?

    key = kind.downcase
    raise Invalid, "second # #{kind} for #{name}" if family.key?(key)

    family[key] = kind == "HELP" ? unescape_help(rest.to_s) : type(rest)
    state[:current] = name
  end

  def type(text)
    raise Invalid, "unknown type #{text.inspect}" unless TYPES.include?(text)

    text
  end

  def unescape_help(text)
    raise Invalid, "bad escape in # HELP" if text.match?(/\\[^\\n]|\\\z/)

    text.gsub(/\\([\\n])/) { Regexp.last_match(1) == "n" ? "\n" : "\\" }
  end

  def sample(line, state)
    found = SAMPLE.match(line) or raise Invalid, "not a sample line"
    family_name = state[:current] or raise Invalid, "a sample before any # TYPE"
    family = state[:families].fetch(family_name)
    raise Invalid, "a sample before its family's # TYPE" unless family["type"]

    name = found[:name]
    check_member(name, family_name, family["type"])

    labels = labels(found[:labels].to_s)
    key = [name, labels.sort]
    raise Invalid, "series #{name}#{labels} appears twice" if state[:series].key?(key)

    state[:series][key] = true
    family["samples"] << { "name" => name, "labels" => labels, "value" => value(found[:value]) }
  end

  def check_member(name, family_name, type)
    allowed = [family_name] + SUFFIXES.fetch(type, []).map { |s| "#{family_name}#{s}" }
    raise Invalid, "sample #{name} does not belong to family #{family_name}" unless allowed.include?(name)
  end

  def labels(text)
    result = {}
    rest = text
    until rest.empty?
      found = LABEL.match(rest) or raise Invalid, "bad label list #{text.inspect}"
      raise Invalid, "label #{found[:name]} twice" if result.key?(found[:name])
      raise Invalid, "reserved label name #{found[:name]}" if found[:name].start_with?("__")

      result[found[:name]] = unescape_label(found[:value][1..-2])
      rest = found.post_match
      raise Invalid, "trailing comma in #{text.inspect}" if found[0].end_with?(",") && rest.empty?
    end
    result
  end

  def unescape_label(text)
    text.gsub(/\\([\\"n])/) { Regexp.last_match(1) == "n" ? "\n" : Regexp.last_match(1) }
  end

  def value(text)
    case text
    when "+Inf" then Float::INFINITY
    when "-Inf" then -Float::INFINITY
    when "NaN" then Float::NAN
    else Float(text)
    end
  end
end

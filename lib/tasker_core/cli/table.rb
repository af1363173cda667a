# frozen_string_literal: true

module TaskerCore
  class CLI
    # A plain-text table: columns padded to their widest cell, numbers right-aligned.
    class Table
      def initialize(*headers, indent: 2)
        @headers = headers.map(&:to_s)
        @rows = []
        @indent = " " * indent
      end

      def <<(row)
        @rows << row.map { |cell| cell.nil? ? "" : cell.to_s }
        self
      end

      def empty?
        @rows.empty?
      end

      NUMBER = /\A[-+]?[\d.,]+\z|\A\z/

      def to_s
        widths = @headers.each_index.map { |i| ([@headers[i]] + @rows.map { |r| r[i] }).map(&:length).max }
        numeric = @headers.each_index.map { |i| @rows.any? && @rows.all? { |r| NUMBER.match?(r[i].to_s) } }
        [@headers, *@rows].map { |row| line(row, widths, numeric) }.join("\n")
      end

      private

      def line(row, widths, numeric)
        cells = row.each_with_index.map do |cell, i|
          numeric[i] ? cell.to_s.rjust(widths[i]) : cell.to_s.ljust(widths[i])
        end
        "#{@indent}#{cells.join("  ")}".rstrip
      end
    end

    # Durations and ages for humans.
    module Format
      module_function

      def duration(seconds)
        return "" if seconds.nil?

        seconds = seconds.to_f
        return "#{(seconds * 1000).round} ms" if seconds < 1
        return format("%.1f s", seconds) if seconds < 60
        return format("%<m>dm%<s>02ds", m: seconds / 60, s: seconds % 60) if seconds < 3600

        format("%<h>dh%<m>02dm", h: seconds / 3600, m: (seconds % 3600) / 60)
      end

      def offset(time, from)
        return "" if time.nil? || from.nil?

        format("+%.3fs", time - from)
      end

      def truncate(text, width)
        text = text.to_s.gsub(/\s+/, " ").strip
        text.length > width ? "#{text[0, width - 1]}…" : text
      end

      def error(last_error)
        return "" unless last_error.is_a?(Hash)

        code = last_error["error_code"] ? " (#{last_error["error_code"]})" : ""
        "#{last_error["class"]}: #{last_error["message"]}#{code}"
      end
    end
  end
end

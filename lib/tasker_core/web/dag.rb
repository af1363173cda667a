# frozen_string_literal: true

module TaskerCore
  class Web
    # A layered left-to-right drawing of a workflow's steps, computed from depends_on:
    # a step's layer is the length of the longest dependency chain above it; within a layer,
    # steps are ordered by the mean position of their parents (then of their children) to keep
    # edges from crossing. Pure geometry: the view turns nodes and edges into SVG.
    class Dag
      NODE_WIDTH = 176
      NODE_HEIGHT = 48
      GAP_X = 56
      GAP_Y = 20
      PADDING = 12
      LABEL_CHARS = 22

      # `anchor`: the step's row in the step table the node links to.
      Node = Struct.new(:name, :state, :attempts, :max_attempts, :layer, :row, :x, :y, :index, :anchor,
                        keyword_init: true) do
        def label
          name.length > LABEL_CHARS ? "#{name[0, LABEL_CHARS - 1]}…" : name
        end

        def center_y
          y + (NODE_HEIGHT / 2)
        end
      end

      Edge = Struct.new(:from, :to, :path, keyword_init: true)

      attr_reader :nodes, :edges, :width, :height

      # steps: [{"name", "depends_on" => [...], "state" (optional), "attempts", "max_attempts"}]
      def initialize(steps)
        @steps = steps.map { |step| step.transform_keys(&:to_s) }
        @by_name = {}
        @steps.each_with_index { |step, index| @by_name[step["name"].to_s] ||= index }
        @parents = @steps.map { |step| parents_of(step) }
        build
      end

      def empty?
        nodes.empty?
      end

      # Whether the named step was skipped (its incoming edges are drawn dashed).
      def skipped?(name)
        index = @by_name[name.to_s]
        !index.nil? && @steps[index]["state"] == "skipped"
      end

      def layer_count
        nodes.empty? ? 0 : nodes.map(&:layer).max + 1
      end

      private

      def parents_of(step)
        Array(step["depends_on"]).map(&:to_s).filter_map { |name| @by_name[name] }.uniq
      end

      def build
        layers = compute_layers
        @nodes = @steps.each_with_index.map do |step, index|
          Node.new(name: step["name"].to_s, state: step["state"], attempts: step["attempts"],
                   max_attempts: step["max_attempts"], layer: layers[index], index: index,
                   anchor: step.fetch("row", index))
        end
        chains = add_waypoints(layers)
        order_rows(layers)
        place(layers)
        @edges = chains.map { |parent, child, waypoints| edge(parent, child, waypoints) }
      end

      # An edge that skips layers gets a waypoint in each layer it crosses, which takes a row
      # there like a node, so the edge runs between nodes instead of through them.
      def add_waypoints(layers)
        @slots = @nodes.map(&:index)
        @up = @parents.map(&:dup)
        @down = Array.new(@nodes.size) { [] }
        @parents.each_with_index { |parents, child| parents.each { |parent| @down[parent] << child } }
        @parents.each_with_index.flat_map do |parents, child|
          parents.map do |parent|
            waypoints = ((layers[parent] + 1)...layers[child]).map { |layer| waypoint(layers, layer) }
            link_chain([parent, *waypoints, child])
            [parent, child, waypoints]
          end
        end
      end

      def waypoint(layers, layer)
        slot = layers.size
        layers << layer
        @up << []
        @down << []
        @slots << slot
        slot
      end

      def link_chain(chain)
        return if chain.size == 2

        chain.each_cons(2) do |from, to|
          @down[from] << to unless @down[from].include?(to)
          @up[to] << from unless @up[to].include?(from)
        end
        @down[chain.first].delete(chain.last)
        @up[chain.last].delete(chain.first)
      end

      # Longest path from a root; a dependency cycle (never in a registered template) is cut.
      def compute_layers
        layers = Array.new(@steps.size)
        visiting = {}
        depth = lambda do |index|
          return layers[index] if layers[index]
          return 0 if visiting[index]

          visiting[index] = true
          layers[index] = @parents[index].map { |parent| depth.call(parent) + 1 }.max || 0
        end
        @steps.each_index { |index| depth.call(index) }
        layers
      end

      # Row within each layer: declaration order first, then two barycenter sweeps each way.
      def order_rows(layers)
        by_layer = @slots.group_by { |slot| layers[slot] }
        @rows = {}
        by_layer.each_value { |members| members.each_with_index { |slot, row| @rows[slot] = row } }
        2.times do
          sweep(by_layer.keys.sort, by_layer, @up)
          sweep(by_layer.keys.sort.reverse, by_layer, @down)
        end
        @nodes.each { |node| node.row = @rows[node.index] }
      end

      def sweep(layer_order, by_layer, neighbours)
        layer_order.each do |layer|
          keyed = by_layer[layer].map do |slot|
            linked = neighbours[slot]
            key = linked.empty? ? @rows[slot] : linked.sum { |other| @rows[other] }.fdiv(linked.size)
            [key, @rows[slot], slot]
          end
          by_layer[layer] = keyed.sort.map(&:last)
          by_layer[layer].each_with_index { |slot, row| @rows[slot] = row }
        end
      end

      def place(layers)
        per_layer = @slots.group_by { |slot| layers[slot] }.transform_values(&:size)
        tallest = per_layer.values.max || 0
        @points = @slots.map do |slot|
          row = @rows[slot] + ((tallest - per_layer[layers[slot]]) / 2.0) # layers centred vertically
          [offset(layers[slot], NODE_WIDTH, GAP_X), offset(row, NODE_HEIGHT, GAP_Y)]
        end
        @nodes.each { |node| node.x, node.y = @points[node.index] }
        @width = extent(layer_count, NODE_WIDTH, GAP_X)
        @height = extent(tallest, NODE_HEIGHT, GAP_Y)
      end

      def offset(index, size, gap)
        PADDING + (index * (size + gap)).round
      end

      def extent(count, size, gap)
        (PADDING * 2) + (count * size) + ([count - 1, 0].max * gap)
      end

      # A smooth path from the parent's right side to the child's left side, straight through
      # each waypoint's slot.
      def edge(parent, child, waypoints)
        from = @nodes[parent]
        to = @nodes[child]
        points = [[from.x + NODE_WIDTH, from.center_y]]
        waypoints.each do |slot|
          x, y = @points[slot]
          points << [x, y + (NODE_HEIGHT / 2)] << [x + NODE_WIDTH, y + (NODE_HEIGHT / 2)]
        end
        points << [to.x - 6, to.center_y]
        Edge.new(from: from.name, to: to.name, path: path_through(points))
      end

      # Curves between layers, straight lines across a waypoint's slot.
      def path_through(points)
        path = +"M#{points[0][0]},#{points[0][1]}"
        points.each_cons(2).with_index do |((x1, y1), (x2, y2)), index|
          next path << " L#{x2},#{y2}" if index.odd?

          bend = [(x2 - x1) / 2, 16].max
          path << " C#{x1 + bend},#{y1} #{x2 - bend},#{y2} #{x2},#{y2}"
        end
        path
      end
    end
  end
end

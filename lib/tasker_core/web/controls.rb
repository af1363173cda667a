# frozen_string_literal: true

require "json"

module TaskerCore
  class Web
    # The actions: cancel a task, retry a failed task, resolve a step with a JSON result; pause
    # and resume a namespace's workers (back to the overview).
    # Each is a form POST that needs actions enabled and the session's CSRF token; it calls the
    # public API with the operator (#actor_for) and a reason, which the transitions record,
    # then redirects back to the task (303).
    module Controls
      REASON_LIMIT = 500

      def cancel_action(request, params, csrf)
        act(request, params, csrf, "cancelled") do |uuid, actor|
          TaskerCore.cancel_task(uuid, actor: actor, reason: reason(request, "cancelled from the dashboard"))
        end
      end

      def retry_action(request, params, csrf)
        act(request, params, csrf, "retried") do |uuid, actor|
          TaskerCore.retry_task(uuid, actor: actor, reason: reason(request, "retried from the dashboard"))
        end
      end

      def resolve_action(request, params, csrf)
        step = params.fetch("step")
        act(request, params, csrf, "resolved", step: step) do |uuid, actor|
          results = parse_results(request.POST["results"])
          TaskerCore.resolve_step(uuid, step, results: results, actor: actor,
                                              reason: reason(request, "resolved from the dashboard"))
        end
      end

      def pause_action(request, params, csrf)
        namespace_control(request, params, csrf, :pause, "paused")
      end

      def resume_action(request, params, csrf)
        namespace_control(request, params, csrf, :resume, "resumed")
      end

      private

      def namespace_control(request, params, csrf, action, done)
        refusal = refuse(request, csrf)
        return refusal if refusal

        namespace = params.fetch("name")
        TaskerCore.public_send(action, namespace, actor: actor_for(request.env),
                                                  reason: reason(request, "#{done} from the dashboard"))
        redirect(request, "/?#{Rack::Utils.build_query("done" => done, "namespace" => namespace)}")
      rescue TaskerCore::ArgumentError => e
        action_error(request, 422, "Not possible", e.message)
      end

      # Raised for a results field that is not JSON.
      class InvalidResults < StandardError; end

      def act(request, params, csrf, done, step: nil)
        refusal = refuse(request, csrf)
        return refusal if refusal

        uuid = params.fetch("uuid")
        return not_found(request, "#{uuid} is not a task uuid.") unless task_uuid?(uuid)

        yield uuid, actor_for(request.env)
        query = { "done" => done, "step" => step }.compact
        redirect(request, "/tasks/#{uuid}?#{Rack::Utils.build_query(query)}")
      rescue InvalidResults => e
        action_error(request, 422, "Invalid result", e.message, uuid)
      rescue TaskerCore::ArgumentError => e
        action_error(request, 409, "Not possible", e.message, uuid)
      end

      def refuse(request, csrf)
        unless actions_enabled?
          return action_error(request, 403, "Actions are disabled",
                              "This dashboard is read-only. Actions are enabled with " \
                              "TaskerCore::Web.actions_enabled = true (or TaskerCore::Web.new(actions: true)).")
        end
        message = csrf.refusal(request.POST[Csrf::FIELD])
        message && action_error(request, 403, "Invalid security token", message)
      end

      def action_error(request, status, title, message, uuid = nil)
        back = task_uuid?(uuid) ? "/tasks/#{uuid}" : nil
        page = View.new(script_name: request.script_name, csrf: nil, actions_enabled: actions_enabled?,
                        poll_interval: 0)
        html(status, page.page(:error, title: title, status: status, message: message, back: back))
      end

      def reason(request, default)
        text = request.POST["reason"].to_s.strip
        text.empty? ? default : text[0, REASON_LIMIT]
      end

      def parse_results(text)
        text = text.to_s.strip
        return {} if text.empty?

        JSON.parse(text)
      rescue JSON::ParserError => e
        raise InvalidResults, "The result must be JSON (for example {\"ok\": true}): #{e.message[0, 200]}"
      end
    end
  end
end

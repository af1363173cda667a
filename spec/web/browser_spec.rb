# frozen_string_literal: true

require "fileutils"
require "tmpdir"
require "socket"
require_relative "web_helper"

# The dashboard as an operator uses it: headless Chromium (Debian's chromium + chromium-driver,
# driven by ruby-selenium-webdriver) against the app served on 127.0.0.1 by this process, with
# an orchestrator and a worker running. Screenshots go to tmp/screenshots/; with
# TASKER_UPDATE_SCREENSHOTS=1 they are also copied to docs/screenshots/.
module BrowserSpec
  ROOT = File.expand_path("../..", __dir__)
  CHROMIUM = %w[/usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome].find do |path|
    File.executable?(path)
  end
  CHROMEDRIVER = %w[/usr/bin/chromedriver /usr/lib/chromium/chromedriver].find { |path| File.executable?(path) }
  SKIP = if CHROMIUM.nil?
           "chromium is not installed (apt-get install chromium chromium-driver, or run bin/setup)"
         elsif CHROMEDRIVER.nil?
           "chromedriver is not installed (apt-get install chromium-driver, or run bin/setup)"
         end
  SHOTS = File.join(ROOT, "tmp", "screenshots")
  DOCS = File.join(ROOT, "docs", "screenshots")
  ARGS = %w[--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
            --disable-component-update --disable-sync --disable-dev-shm-usage --window-size=1280,900
            --force-device-scale-factor=1 --lang=en-US].freeze
end

# In the written order: the first example is the journey of the issue, and the screenshots of
# the overview should show its failure.
RSpec.describe "dashboard in a browser", :browser, db: true, order: :defined, skip: BrowserSpec::SKIP do
  before(:context) do
    require "selenium-webdriver"
    reset_tasker_database!
    WebSpec.register!
    register_example_workflows!
    TaskerCore.register_templates!([WebFanSpec::TEMPLATE])
    WebSpec::Flaky.succeed = false
    start_orchestrator!
    namespaces = %w[fulfillment web_spec web_fan linear_workflow diamond_workflow tree_workflow mixed_dag_workflow]
    @worker = TaskerCore::Worker.start(namespaces: namespaces, concurrency: 2, database_url: TaskerTestDatabase.url)
    seed_tasks
    web = TaskerCore::Web.new(actions: true, poll_interval: 0.5)
    @server = TaskerCore::Web::Server.start(WebSpec.mounted(web, user: "alice@example.com"), host: "127.0.0.1")
    @base = "#{@server.url}/tasker"
    @profile = Dir.mktmpdir("tasker-chromium-")
    @driver = start_browser
    FileUtils.mkdir_p(BrowserSpec::SHOTS)
  end

  after(:context) do
    @driver&.quit
    @server&.stop
    @worker&.stop(timeout: 10)
    stop_orchestrator!
    FileUtils.rm_rf(@profile) if @profile
    WebSpec::Flaky.succeed = false
    if ENV["TASKER_UPDATE_SCREENSHOTS"] == "1"
      FileUtils.mkdir_p(BrowserSpec::DOCS)
      Dir[File.join(BrowserSpec::SHOTS, "*.png")].each { |png| FileUtils.cp(png, BrowserSpec::DOCS) }
    end
  end

  attr_reader :driver

  def seed_tasks
    # Finished examples for the overview, a step waiting for a retry, and two failures.
    examples = Examples::WORKFLOWS.keys.map { |namespace| create_example_task(namespace) }
    waiting = TaskerCore.create_task(namespace: "fulfillment", name: "process_order", initiator: "shop",
                                     context: { "order" => { "product_id" => "gadget" },
                                                "simulate" => { "short_stock_attempts" => 3, "retry_after" => 240 } })
    @order = TaskerCore.create_task(namespace: "fulfillment", name: "process_order", initiator: "shop",
                                    source_system: "checkout", reason: "order 1042",
                                    context: { "order" => { "product_id" => "nope", "quantity" => 2 },
                                               "note" => WebSpec::HOSTILE })
    @flaky = WebSpec.create_flaky
    (examples + [@order, @flaky]).each { |task| TaskerCore.wait_for_task(task.uuid, timeout: 20) }
    wait_until(message: "a step waiting for its retry") do
      TaskerCore.task_status(waiting.uuid).step("reserve_inventory").state == "waiting_for_retry"
    end
  end

  def start_browser
    options = Selenium::WebDriver::Chrome::Options.new(args: BrowserSpec::ARGS + ["--user-data-dir=#{@profile}"])
    options.binary = BrowserSpec::CHROMIUM
    service = Selenium::WebDriver::Chrome::Service.new(path: BrowserSpec::CHROMEDRIVER, args: ["--log-level=OFF"])
    Selenium::WebDriver.for(:chrome, options: options, service: service)
  end

  def visit(path)
    driver.navigate.to("#{@base}#{path}")
  end

  # Retries through the moments a live page reloads under the test (Chromium reports a node
  # that left the document mid-call as an UnknownError, not always as a stale element).
  def wait_for(timeout: 20, message: "condition", &block)
    errors = Selenium::WebDriver::Error
    ignored = [errors::NoSuchElementError, errors::NoSuchAlertError, errors::StaleElementReferenceError,
               errors::UnknownError]
    Selenium::WebDriver::Wait.new(timeout: timeout, interval: 0.1, ignore: ignored,
                                  message: "timed out waiting for #{message}").until(&block)
  end

  def css(selector)
    driver.find_element(css: selector)
  end

  def task_state
    css("#task-state .badge").text
  end

  # The page (its first 1600 px), as a PNG in tmp/screenshots/.
  def screenshot(name)
    page, chrome = driver.execute_script(
      "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]"
    ).map(&:to_i)
    driver.manage.window.resize_to(1280, page.clamp(600, 1600) + chrome)
    driver.save_screenshot(File.join(BrowserSpec::SHOTS, "#{name}.png"))
  ensure
    driver.manage.window.resize_to(1280, 900)
  end

  # Submits the form whose button is `button`, accepting the JS confirmation.
  def confirm_click(button)
    button.click
    alert = wait_for(message: "the confirmation") { driver.switch_to.alert }
    expect(alert.text).not_to be_empty
    alert.accept
  end

  it "overview → failed task → DAG with the failed step → resolve with a JSON result → watch it complete" do
    visit("/")
    expect(css("h1").text).to eq("Overview")
    expect(css("#queues").text).to include("fulfillment_queue")
    expect(css("#processes").text).to include("tasker-core")
    expect(css("#waiting-for-retry").text).to include("reserve_inventory")
    screenshot("overview")

    row = driver.find_elements(css: "tr.task-row").find { |tr| tr.attribute("data-task-uuid") == @order.uuid }
    expect(row).not_to be_nil
    row.find_element(css: "td:nth-child(2) a").click

    wait_for(message: "the task page") { driver.current_url.include?("/tasks/#{@order.uuid}") }
    expect(task_state).to eq("error")
    failed = css('svg.dag g.node[data-step="validate_order"]')
    expect(failed.attribute("class")).to include("state-error")
    expect(failed.text).to include("validate_order", "error")
    expect(css('svg.dag g.node[data-step="ship_order"]').attribute("class")).to include("state-pending")
    expect(css("#step-0 .error-message").text).to include('unknown product "nope"')
    expect(css("#task-context").text).to include(WebSpec::HOSTILE) # shown as text, never run
    expect(driver.execute_script("return document.querySelectorAll('main script').length")).to eq(0)
    screenshot("task-failed")

    textarea = css("#step-0 textarea[name=results]")
    textarea.clear
    textarea.send_keys('{"product_id": "widget", "quantity": 2, "total_cents": 2500}')
    css("#step-0 input[name=reason]").send_keys("wrong product id; the customer meant widget")
    confirm_click(css("#step-0 button.resolve-step"))

    wait_for(message: "the notice") { css(".flash-ok").text.include?("resolved by hand") }
    wait_for(timeout: 30, message: "the task to complete live") { task_state == "complete" }
    nodes = driver.find_elements(css: "svg.dag g.node")
    expect(nodes.map { |node| node.attribute("data-state") })
      .to eq(%w[resolved_manually complete complete complete])
    history = css("#transitions").text
    expect(history).to include("alice@example.com", "wrong product id; the customer meant widget")
    expect(css("#step-3").text).to include("UPS-")
    screenshot("task-complete")
  end

  it "retries a failed task once its handler is fixed, and follows it to the end" do
    visit("/tasks")
    expect(driver.find_elements(css: "tr.task-row").size).to be >= 7
    screenshot("tasks")
    css("select[name=state] option[value=error]").click
    css("form.filters button[type=submit]").click
    wait_for(message: "the filtered list") { driver.current_url.include?("state=error") }
    expect(driver.find_elements(css: "tr.task-row").map { |tr| tr.attribute("data-task-uuid") }).to eq([@flaky.uuid])
    visit("/tasks/#{@flaky.uuid}")
    expect(css('svg.dag g.node[data-step="fetch"]').attribute("class")).to include("state-error")
    expect(css("#step-0 .error-message").text).to include("upstream said <script>alert(1)</script>")

    WebSpec::Flaky.succeed = true
    confirm_click(css("#retry-task"))
    wait_for(message: "the notice") { css(".flash-ok").text.include?("sent back to run again") }
    wait_for(timeout: 30, message: "the task to complete live") { task_state == "complete" }
    expect(css('svg.dag g.node[data-step="publish"]').attribute("data-state")).to eq("complete")
    expect(css("#step-1 pre.json").text).to include(WebSpec::HOSTILE)
    expect(css("#transitions").text).to include("retried from the dashboard", "alice@example.com")
  end

  it "shows every template with its DAG, and cancels nothing without confirmation" do
    visit("/templates")
    expect(driver.find_elements(css: "article.template").size).to eq(TaskerCore.templates.size)
    expect(driver.find_elements(css: "article.template svg.dag").size).to eq(TaskerCore.templates.size)
    screenshot("templates")

    task = TaskerCore.create_task(namespace: "web_idle", name: "slow")
    visit("/tasks/#{task.uuid}")
    css("#cancel-task").click
    wait_for(message: "the confirmation") { driver.switch_to.alert }.dismiss
    expect(TaskerCore.task_status(task.uuid).state).to eq("in_progress")
    confirm_click(css("#cancel-task"))
    wait_for(message: "the task to be cancelled") { task_state == "cancelled" }
  end

  it "summarizes a running fan-out's instances, follows their counts, and pages the failed ones" do
    WebFanSpec::Gate.close!
    task = TaskerCore.create_task(namespace: "web_fan", name: "fan", version: "1.0.0", context: { "n" => 30 })
    wait_until(message: "the instances") { TaskerCore.task_status(task.uuid).steps.size == 32 }
    visit("/tasks/#{task.uuid}")
    expect(css("tr.instances-summary").text).to include("part[30]")
    expect(css('svg.dag g.node[data-step="part[30]"]').attribute("data-state")).to be_truthy
    # Six instances finish while the task runs on: only the summary's counts change.
    WebFanSpec::Gate.allow(6)
    wait_for(message: "the page to show six instances finished") do
      text = css("tr.instances-summary").text
      text[/complete (\d+)/, 1].to_i + text[/error (\d+)/, 1].to_i == 6
    end
    expect(task_state).to eq("in progress")
    WebFanSpec::Gate.open!
    wait_for(message: "the task to fail") { task_state == "error" }
    css("tr.instances-summary a.count .state-error").click
    wait_for(message: "the failed instances") do
      driver.find_elements(css: "#steps tr[data-step^='part[']").map { |row| row.attribute("data-step") } ==
        WebFanSpec::FAILING.select { |i| i < 30 }.map { |i| "part[#{i}]" }
    end
    screenshot("task-fan-out")
  ensure
    WebFanSpec::Gate.open!
  end
end

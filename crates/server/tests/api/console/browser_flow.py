"""The operator console in a real browser: the system Chromium, headless,
driven by Playwright. Run by crates/server/tests/api/console/mod.rs against a
seeded Inflow; every step asserts what the operator would see, and each
page is saved as a screenshot in $SCREENSHOTS. Exits non-zero on failure.
"""
import os
import sys
import tempfile

from playwright.sync_api import expect, sync_playwright

URL = os.environ["CONSOLE_URL"]
SHOTS = os.environ["SCREENSHOTS"]
E = os.environ


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def nav(page, label):
    page.get_by_role("navigation", name="Console").get_by_role("link", name=label).click()


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_default_timeout(15000)

        # Sign in: the console sends us to the form first.
        page.goto(URL)
        expect(page).to_have_url(URL + "/sign-in?signin=required")
        page.get_by_label("Operator API key").fill(E["ADMIN_KEY"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        returns_chart = page.locator("figure", has_text="Returns by code")
        expect(returns_chart).not_to_contain_text("R01")
        shot(page, "overview")

        # Find a collection by its trace number; its timeline.
        nav(page, "Collections")
        page.get_by_label("Trace number").fill(E["TRACE"])
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(f"{URL}/collections/{E['FILED_ID']}")
        expect(page.locator("dl.facts")).to_contain_text(E["TRACE"])
        expect(page.locator("ol.timeline")).to_contain_text("submitted")
        expect(page.get_by_role("heading", name="Events and webhook deliveries")).to_be_visible()
        shot(page, "collection")

        # Cancel a pending one, after the confirmation.
        page.goto(f"{URL}/collections/{E['CANCEL_ID']}")
        page.get_by_role("link", name="Cancel…").click()
        page.get_by_label("Reason (kept in the status history)").fill("duplicate bill")
        shot(page, "cancel-confirm")
        page.get_by_role("button", name="Yes, cancel").click()
        expect(page.locator("dl.facts")).to_contain_text("cancelled")
        expect(page.locator("ol.timeline")).to_contain_text("duplicate bill")

        # Run a cutoff now; open the new file; download it.
        nav(page, "ACH files")
        page.get_by_role("link", name="Run a cutoff now…").click()
        page.get_by_role("button", name="Yes, run the cutoff").click()
        expect(page.get_by_role("status")).to_contain_text("1 file(s) created")
        page.locator("main ul a").first.click()
        expect(page.get_by_role("heading", name="Validation")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Valid: no findings")
        expect(page.locator("main")).to_contain_text("$314.15")
        shot(page, "file")
        with page.expect_download() as d:
            page.get_by_role("link", name="Download the file").click()
        path = os.path.join(tempfile.mkdtemp(), "file.ach")
        d.value.save_as(path)
        with open(path, encoding="ascii") as f:
            text = f.read()
        assert text.startswith("101 "), text[:100]
        assert len(text.splitlines()[0]) == 94, "a NACHA record is 94 characters"

        # Advance the clock: the sandbox bank's R01 return comes back.
        nav(page, "Sandbox clock")
        page.get_by_label("Days").fill("7")
        page.get_by_role("button", name="Advance the clock").click()
        expect(page.get_by_role("status")).to_contain_text("The clock moved")
        shot(page, "clock")
        nav(page, "Overview")
        expect(page.locator("figure", has_text="Returns by code")).to_contain_text("R01")
        page.locator("#h-returns").scroll_into_view_if_needed()
        shot(page, "returns")
        page.goto(f"{URL}/collections/{E['RETURN_ID']}")
        expect(page.locator("dl.facts")).to_contain_text("returned")
        expect(page.locator("main")).to_contain_text("R01")

        # Redeliver the webhook the endpoint refused (it answers 500 to collection.cancelled).
        nav(page, "Webhooks")
        refused = page.locator("tr", has_text="collection.cancelled").first
        expect(refused).to_have_class("warn")
        refused.get_by_role("button", name="Redeliver").click()
        expect(page.get_by_role("status")).to_contain_text("queued for redelivery")
        shot(page, "webhooks")

        # The remaining pages, each with its heading.
        for label, heading in [("Customers", "Customers and balances"), ("API keys", "API keys"),
                               ("Reports", "Reports"), ("Collections", "Collections"), ("ACH files", "ACH files")]:
            nav(page, label)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            shot(page, label.lower().replace(" ", "-"))

        # Keyboard: the skip link is the first stop and leads to the content.
        page.keyboard.press("Tab")
        expect(page.locator("a.skip")).to_be_focused()

        # A phone-width viewport still shows the overview.
        page.set_viewport_size({"width": 390, "height": 844})
        nav(page, "Overview")
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        shot(page, "overview-phone")

        # Sign out.
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(URL + "/sign-in?signin=out")
        page.goto(URL + "/files")
        expect(page).to_have_url(URL + "/sign-in?signin=required")

        assert not errors, f"browser console errors: {errors}"
        browser.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the test prints why and fails
        print(f"FAILED: {e!r}", file=sys.stderr)
        sys.exit(1)

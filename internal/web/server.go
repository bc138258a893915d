// Package web builds the Fiber application every domain registers its routes on: the
// middleware chain (request context and id, logs, metrics, security headers, language,
// CSRF), the one error handler, page rendering and JSON helpers.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hearth-community/hearth/internal/i18n"
)

// Options configure the web server.
type Options struct {
	Logger         *slog.Logger
	I18n           *i18n.Bundle
	Secret         []byte
	SecureCookies  bool
	TrustedProxies []string
	// RequestTimeout bounds the context every handler's work runs under.
	RequestTimeout time.Duration
	// Registry collects metrics; a fresh one is made when nil.
	Registry *prometheus.Registry
	// Ready reports whether the database and search answer (for /readyz).
	Ready func(ctx context.Context) error
	// Funcs are template functions domains give the html/template pages (the forum's
	// compiled thread rows: forum.TemplateFuncs), added to the renderer's own; pages
	// calling one fail to parse without it.
	Funcs template.FuncMap
}

// Server is the Fiber app with Hearth's plumbing in place.
type Server struct {
	App      *fiber.App
	Registry *prometheus.Registry
	opt      Options
	pages    *renderer
	metrics  *httpMetrics
}

// New builds the app and its middleware. Domains then add routes on s.App, behind
// the authentication middleware main installs with Use.
func New(opt Options) (*Server, error) {
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
		opt.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if opt.RequestTimeout == 0 {
		opt.RequestTimeout = 30 * time.Second
	}
	pages, err := newRenderer(opt.Funcs)
	if err != nil {
		return nil, err
	}
	s := &Server{Registry: opt.Registry, opt: opt, pages: pages, metrics: newHTTPMetrics(opt.Registry)}
	s.App = fiber.New(fiber.Config{
		// fasthttp reuses the buffers behind strings from *fiber.Ctx; copies are safer.
		Immutable:             true,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		BodyLimit:             2 << 20,
		// A page (12–25 KB for threads and lists) goes out in one write with its
		// headers; at the default 4 KB the headers were flushed first, then the body.
		WriteBufferSize:         32 << 10,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             90 * time.Second,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          opt.TrustedProxies,
		ProxyHeader:             proxyHeader(opt.TrustedProxies),
	})
	s.App.Use(recover.New(recover.Config{EnableStackTrace: false}))
	s.App.Use(requestid.New())
	s.App.Use(s.requestContext)
	s.App.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
		ReferrerPolicy:        "strict-origin-when-cross-origin",
	}))
	s.App.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	s.App.Get("/readyz", s.readyz)
	s.App.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(opt.Registry, promhttp.HandlerOpts{})))
	s.App.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(assets()), MaxAge: 3600}))
	return s, nil
}

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// UseSession installs the middleware that runs after authentication: the request's
// language and CSRF protection of web forms.
func (s *Server) UseSession() {
	s.App.Use(s.language)
	s.App.Use(s.csrf)
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if s.opt.Ready == nil {
		return c.SendString("ok")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	if err := s.opt.Ready(ctx); err != nil {
		Logger(c).Warn("not ready", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("not ready")
	}
	return c.SendString("ok")
}

type ctxKey int

// requestIDKey carries the request id in the request context.
const requestIDKey ctxKey = 0

// requestContext gives each request a context.Context with a deadline and a logger
// carrying the request id (Fiber v2 has none of its own), logs the request once, and
// records its metrics.
func (s *Server) requestContext(c *fiber.Ctx) error {
	rid, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.RequestTimeout)
	defer cancel()
	c.SetUserContext(context.WithValue(ctx, requestIDKey, rid))
	c.Locals("server", s)
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.App.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	s.metrics.observe(c.Method(), route, status, time.Since(start))
	if s.opt.Logger.Enabled(ctx, slog.LevelDebug) {
		s.opt.Logger.Debug("request", "request_id", rid, "method", c.Method(), "path", c.Path(), "route", route,
			"status", status, "ms", time.Since(start).Milliseconds())
	}
	return nil
}

// Logger returns the request's logger, carrying its request id. It is made on
// demand: most requests log nothing, and a logger per request costs allocations.
func Logger(c *fiber.Ctx) *slog.Logger {
	if s, ok := c.Locals("server").(*Server); ok {
		rid, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
		return s.opt.Logger.With("request_id", rid)
	}
	return slog.Default()
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hearth_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}
